//! Closing a window the way a window manager does when the user clicks its close button: an X11
//! `ClientMessage` of type `WM_PROTOCOLS` carrying `WM_DELETE_WINDOW`, sent to the window.
//! Xvfb runs no window manager, and `xdotool` in Debian 12 predates `windowclose`, so this
//! speaks the few requests it needs of the X11 protocol itself over the display's Unix socket.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

struct X {
    stream: UnixStream,
}

impl X {
    /// Connects to display `:N` (Xvfb without `-auth` needs no credentials).
    fn connect(display: &str) -> std::io::Result<X> {
        let number = display
            .trim_start_matches(':')
            .split('.')
            .next()
            .unwrap_or("0");
        let stream = UnixStream::connect(format!("/tmp/.X11-unix/X{number}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut x = X { stream };
        // Setup: little-endian, protocol 11.0, no authorisation.
        x.stream
            .write_all(&[b'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0])?;
        let mut head = [0u8; 8];
        x.stream.read_exact(&mut head)?;
        let mut rest = vec![0u8; u16::from_le_bytes([head[6], head[7]]) as usize * 4];
        x.stream.read_exact(&mut rest)?;
        if head[0] != 1 {
            return Err(std::io::Error::other(format!(
                "the X server refused the connection: {}",
                String::from_utf8_lossy(&rest)
            )));
        }
        Ok(x)
    }

    /// Reads until the reply to the last request (events are skipped; an error fails).
    fn reply(&mut self) -> std::io::Result<[u8; 32]> {
        loop {
            let mut packet = [0u8; 32];
            self.stream.read_exact(&mut packet)?;
            match packet[0] {
                0 => return Err(std::io::Error::other(format!("X error {}", packet[1]))),
                1 => {
                    let extra = u32::from_le_bytes([packet[4], packet[5], packet[6], packet[7]]);
                    let mut skip = vec![0u8; extra as usize * 4];
                    self.stream.read_exact(&mut skip)?;
                    return Ok(packet);
                }
                _ => {}
            }
        }
    }

    fn intern_atom(&mut self, name: &str) -> std::io::Result<u32> {
        let len = name.len();
        let words = (8 + len + pad4(len)) / 4;
        let mut req = vec![16, 0];
        req.extend_from_slice(&(words as u16).to_le_bytes());
        req.extend_from_slice(&(len as u16).to_le_bytes());
        req.extend_from_slice(&[0, 0]);
        req.extend_from_slice(name.as_bytes());
        req.resize(words * 4, 0);
        self.stream.write_all(&req)?;
        let reply = self.reply()?;
        Ok(u32::from_le_bytes([
            reply[8], reply[9], reply[10], reply[11],
        ]))
    }

    fn send_delete(&mut self, window: u32, protocols: u32, delete: u32) -> std::io::Result<()> {
        // SendEvent(propagate = false, destination = window, event-mask = 0, ClientMessage).
        let mut req = vec![25, 0, 11, 0];
        req.extend_from_slice(&window.to_le_bytes());
        req.extend_from_slice(&0u32.to_le_bytes());
        let mut event = vec![33, 32, 0, 0];
        event.extend_from_slice(&window.to_le_bytes());
        event.extend_from_slice(&protocols.to_le_bytes());
        event.extend_from_slice(&delete.to_le_bytes());
        event.resize(32, 0); // timestamp CurrentTime (0), then unused data
        req.extend_from_slice(&event);
        self.stream.write_all(&req)?;
        // A round trip (GetInputFocus) so the event has been handled by the server.
        self.stream.write_all(&[43, 0, 1, 0])?;
        self.reply().map(|_| ())
    }
}

/// Asks the window `id` (as xwininfo prints it, `0x…`) on `display` to close, as a window
/// manager does when the user clicks the close button.
pub fn request_close(display: &str, id: &str) {
    let window = u32::from_str_radix(id.trim_start_matches("0x"), 16)
        .unwrap_or_else(|_| panic!("{id:?} is not an X window id"));
    let run = || -> std::io::Result<()> {
        let mut x = X::connect(display)?;
        let protocols = x.intern_atom("WM_PROTOCOLS")?;
        let delete = x.intern_atom("WM_DELETE_WINDOW")?;
        x.send_delete(window, protocols, delete)
    };
    run().unwrap_or_else(|e| panic!("cannot ask window {id} on {display} to close: {e}"));
}
