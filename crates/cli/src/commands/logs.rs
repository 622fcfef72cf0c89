//! `nightshift logs`: the kept output, or follow it live.

use crate::args::LogsArgs;
use crate::client::Client;
use crate::commands::parse_id;
use anyhow::Context;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: LogsArgs) -> anyhow::Result<ExitCode> {
    let id = parse_id(&args.id)?;
    let client = Client::connect()?;
    let mut query = vec![];
    if let Some(n) = args.tail {
        query.push(format!("tail={n}"));
    }
    if args.follow {
        query.push("follow=true".into());
    }
    let path = format!("/api/jobs/{id}/logs?{}", query.join("&"));
    let mut body = client.stream(&path)?;
    let mut out = std::io::stdout().lock();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = body.read(&mut buf).context("the log stream broke off")?;
        if n == 0 {
            break;
        }
        match out.write_all(&buf[..n]).and_then(|()| out.flush()) {
            Ok(()) => {}
            // The reader went away (`| head`): that is not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
            Err(e) => return Err(e).context("cannot write the log"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

use std::io::Read as _;
