//! Just enough of the X11 protocol to close a window as a user does: the window manager's close
//! button sends the window a WM_DELETE_WINDOW message, which GTK turns into "delete-event", the
//! path Tauri's close handling follows. The bench's virtual display has no window manager to
//! ask (`wmctrl -c` needs one), and Debian 12's xdotool can only destroy a window or kill its
//! client, which is not what a user does; so the bench sends the message itself, over the
//! display's Unix socket, with no library and no package to install.

use anyhow::{Context, bail, ensure};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Predefined atoms and request opcodes (X11 protocol, appendices A and B).
const WM_NAME: u32 = 39;
const ANY_PROPERTY_TYPE: u32 = 0;
const QUERY_TREE: u8 = 15;
const INTERN_ATOM: u8 = 16;
const GET_PROPERTY: u8 = 20;
const SEND_EVENT: u8 = 25;
const GET_INPUT_FOCUS: u8 = 43;
const CLIENT_MESSAGE: u8 = 33;

/// Top-level windows titled exactly `title` on display `:number`. Without a window manager
/// every application's top-level window is a child of the root window.
pub fn windows_titled(number: u32, title: &str) -> anyhow::Result<Vec<u32>> {
    let mut x = Connection::open(number)?;
    let mut found = Vec::new();
    for window in x.children(x.root)? {
        if x.name(window)?.as_deref() == Some(title.as_bytes()) {
            found.push(window);
        }
    }
    Ok(found)
}

/// Asks `window` to close (WM_DELETE_WINDOW), as a window manager's close button does.
pub fn ask_to_close(number: u32, window: u32) -> anyhow::Result<()> {
    let mut x = Connection::open(number)?;
    let protocols = x.atom("WM_PROTOCOLS")?;
    let delete = x.atom("WM_DELETE_WINDOW")?;
    // A ClientMessage event: type, format 32, sequence (filled in by the server), window,
    // message type, then data: the protocol and a timestamp (0, CurrentTime), padded to 32.
    let mut event = vec![CLIENT_MESSAGE, 32, 0, 0];
    for word in [window, protocols, delete, 0, 0, 0, 0] {
        event.extend_from_slice(&word.to_le_bytes());
    }
    // No propagation, empty event mask: delivered to the client that created the window.
    let mut body = Vec::new();
    body.extend_from_slice(&window.to_le_bytes());
    body.extend_from_slice(&0u32.to_le_bytes());
    body.extend_from_slice(&event);
    x.request(SEND_EVENT, 0, &body)?;
    // SendEvent has no reply: a round trip after it shows whether the server accepted it.
    x.request(GET_INPUT_FOCUS, 0, &[])?;
    x.reply()?
        .context("the X server rejected the WM_DELETE_WINDOW message")?;
    Ok(())
}

/// A connection to the X server, speaking little-endian.
struct Connection {
    stream: UnixStream,
    root: u32,
}

impl Connection {
    fn open(number: u32) -> anyhow::Result<Connection> {
        let path = format!("/tmp/.X11-unix/X{number}");
        let mut stream =
            UnixStream::connect(&path).with_context(|| format!("cannot connect to {path}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        // 'l' (little-endian), protocol 11.0, and no authorisation: the bench's own Xvfb runs
        // without -auth, so it accepts local clients.
        stream.write_all(&[b'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0])?;
        let mut head = [0u8; 8];
        stream.read_exact(&mut head)?;
        let mut setup = vec![0u8; 4 * usize::from(u16_at(&head, 6))];
        stream.read_exact(&mut setup)?;
        ensure!(
            head[0] == 1,
            "the X server refused the connection: {}",
            String::from_utf8_lossy(&setup).trim_end_matches('\0')
        );
        // After 32 bytes of fixed fields come the vendor string (padded), the pixmap formats
        // (8 bytes each), then the screens, whose first field is the root window.
        ensure!(setup.len() >= 32, "the X server's setup is too short");
        let vendor = usize::from(u16_at(&setup, 16));
        let formats = usize::from(setup[21]);
        let root_at = 32 + padded(vendor) + 8 * formats;
        ensure!(setup.len() >= root_at + 4, "the X server lists no screen");
        Ok(Connection {
            stream,
            root: u32_at(&setup, root_at),
        })
    }

    /// Sends one request: opcode, a one-byte detail, the length in 4-byte units, the body.
    fn request(&mut self, opcode: u8, detail: u8, body: &[u8]) -> anyhow::Result<()> {
        let mut bytes = vec![opcode, detail, 0, 0];
        bytes.extend_from_slice(body);
        bytes.resize(padded(bytes.len()), 0);
        let units = u16::try_from(bytes.len() / 4).context("X request too long")?;
        bytes[2..4].copy_from_slice(&units.to_le_bytes());
        self.stream
            .write_all(&bytes)
            .context("cannot write to the X server")
    }

    /// The reply to the last request, events skipped; `None` if the server answered with an
    /// error instead (such as a window that has gone since it was listed).
    fn reply(&mut self) -> anyhow::Result<Option<Vec<u8>>> {
        loop {
            let mut packet = vec![0u8; 32];
            self.stream
                .read_exact(&mut packet)
                .context("cannot read from the X server")?;
            match packet[0] {
                0 => return Ok(None),
                1 => {
                    let more = 4 * u32_at(&packet, 4) as usize;
                    packet.resize(32 + more, 0);
                    self.stream.read_exact(&mut packet[32..])?;
                    return Ok(Some(packet));
                }
                _ => continue,
            }
        }
    }

    fn atom(&mut self, name: &str) -> anyhow::Result<u32> {
        let length = u16::try_from(name.len())?;
        let mut body = length.to_le_bytes().to_vec();
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(name.as_bytes());
        self.request(INTERN_ATOM, 0, &body)?;
        match self.reply()? {
            Some(reply) => Ok(u32_at(&reply, 8)),
            None => bail!("the X server cannot name the atom {name}"),
        }
    }

    fn children(&mut self, window: u32) -> anyhow::Result<Vec<u32>> {
        self.request(QUERY_TREE, 0, &window.to_le_bytes())?;
        let reply = self.reply()?.context("cannot list the X windows")?;
        let count = usize::from(u16_at(&reply, 16));
        Ok((0..count).map(|i| u32_at(&reply, 32 + 4 * i)).collect())
    }

    /// The window's WM_NAME (its title) as bytes, if it has one.
    fn name(&mut self, window: u32) -> anyhow::Result<Option<Vec<u8>>> {
        let mut body = Vec::new();
        // Window, property, any type, from offset 0, up to 64 units (256 bytes).
        for word in [window, WM_NAME, ANY_PROPERTY_TYPE, 0, 64] {
            body.extend_from_slice(&word.to_le_bytes());
        }
        self.request(GET_PROPERTY, 0, &body)?;
        let Some(reply) = self.reply()? else {
            return Ok(None);
        };
        // Format 8 (bytes) is what titles use; no type means no such property.
        if u32_at(&reply, 8) == 0 || reply[1] != 8 {
            return Ok(None);
        }
        let length = u32_at(&reply, 16) as usize;
        Ok(reply.get(32..32 + length).map(<[u8]>::to_vec))
    }
}

fn padded(n: usize) -> usize {
    n.div_ceil(4) * 4
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}
