//! The stdio transport: LSP base-protocol framing that survives malformed input.
//!
//! `lsp_server`'s own stdio transport stops at the first malformed message; this one answers a body
//! that is not JSON (or not UTF-8) with a JSON-RPC parse error, logs a message it can't use to
//! stderr, and reads on. Only protocol bytes are written to stdout.

use crossbeam_channel::{unbounded, Receiver, Sender};
use lsp_server::{Connection, Message};
use std::io::{self, BufRead, Read, Write};
use std::thread;

/// Bodies larger than this are skipped (and answered with a parse error).
const MAX_BODY: usize = 256 * 1024 * 1024;
/// Header lines longer than this are malformed.
const MAX_HEADER_LINE: usize = 8 * 1024;

/// The threads behind a stdio connection.
pub struct IoThreads {
    writer: thread::JoinHandle<()>,
}

impl IoThreads {
    /// Waits until everything sent on the connection has been written (call after dropping it).
    pub fn join_writer(self) {
        let _ = self.writer.join();
    }
}

/// A connection over stdin and stdout.
pub fn stdio() -> io::Result<(Connection, IoThreads)> {
    over(io::stdin(), io::stdout())
}

/// A connection over any byte streams (stdio, a socket).
pub fn over<R, W>(input: R, output: W) -> io::Result<(Connection, IoThreads)>
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let (to_server, from_client) = unbounded::<Message>();
    let (to_client, from_server) = unbounded::<Message>();
    let (raw_out, raw_in) = unbounded::<String>();
    thread::Builder::new()
        .name("azaudit-lsp-reader".into())
        .spawn(move || {
            let mut input = io::BufReader::new(input);
            read_loop(&mut input, &to_server, &raw_out);
        })?;
    let writer = thread::Builder::new()
        .name("azaudit-lsp-writer".into())
        .spawn(move || {
            let mut out = io::BufWriter::new(output);
            write_loop(&mut out, &from_server, &raw_in);
            let _ = out.flush();
        })?;
    Ok((
        Connection {
            sender: to_client,
            receiver: from_client,
        },
        IoThreads { writer },
    ))
}

/// Reads framed messages until end of input, the `exit` notification or a closed channel.
pub fn read_loop(input: &mut impl BufRead, to_server: &Sender<Message>, raw_out: &Sender<String>) {
    loop {
        let body = match read_frame(input) {
            Ok(Frame::Body(body)) => body,
            Ok(Frame::Eof) => return,
            Ok(Frame::Skipped(why)) => {
                eprintln!("azaudit lsp: {why}");
                let _ = raw_out.send(parse_error(&why));
                continue;
            }
            Err(e) => {
                eprintln!("azaudit lsp: cannot read input: {e}");
                return;
            }
        };
        let text = match String::from_utf8(body) {
            Ok(text) => text,
            Err(e) => {
                let why = format!("message body is not UTF-8: {e}");
                eprintln!("azaudit lsp: {why}");
                let _ = raw_out.send(parse_error(&why));
                continue;
            }
        };
        let value: serde_json::Value = match serde_json::from_str(&text) {
            Ok(value) => value,
            Err(e) => {
                let why = format!("message body is not JSON: {e}");
                eprintln!("azaudit lsp: {why}");
                let _ = raw_out.send(parse_error(&why));
                continue;
            }
        };
        if !value.is_object() {
            let why = "a JSON-RPC message must be an object".to_string();
            eprintln!("azaudit lsp: {why}");
            let _ = raw_out.send(invalid_request(None, &why));
            continue;
        }
        let message: Message = match serde_json::from_value(value.clone()) {
            Ok(message) => message,
            Err(e) => {
                let why = format!("not a JSON-RPC message: {e}");
                eprintln!("azaudit lsp: {why}");
                if value.get("method").is_some() {
                    let _ = raw_out.send(invalid_request(value.get("id"), &why));
                }
                continue;
            }
        };
        let is_exit = matches!(&message, Message::Notification(n) if n.method == "exit");
        if to_server.send(message).is_err() || is_exit {
            return;
        }
    }
}

/// Writes messages until both channels are closed.
pub fn write_loop(out: &mut impl Write, messages: &Receiver<Message>, raw: &Receiver<String>) {
    let mut raw_open = true;
    loop {
        let result = if raw_open {
            crossbeam_channel::select! {
                recv(messages) -> m => match m {
                    Ok(m) => m.write(out),
                    Err(_) => return,
                },
                recv(raw) -> r => match r {
                    Ok(body) => write_raw(out, &body),
                    Err(_) => {
                        raw_open = false;
                        Ok(())
                    }
                },
            }
        } else {
            match messages.recv() {
                Ok(m) => m.write(out),
                Err(_) => return,
            }
        };
        if let Err(e) = result {
            eprintln!("azaudit lsp: cannot write output: {e}");
            return;
        }
    }
}

enum Frame {
    Body(Vec<u8>),
    Eof,
    /// A frame that was read past but can't be used, and why.
    Skipped(String),
}

fn read_frame(input: &mut impl BufRead) -> io::Result<Frame> {
    let mut length: Option<usize> = None;
    let mut bad_header: Option<String> = None;
    let mut seen_header = false;
    loop {
        let mut line = Vec::new();
        let n = input
            .by_ref()
            .take(MAX_HEADER_LINE as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(Frame::Eof);
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if seen_header {
                break;
            }
            continue;
        }
        seen_header = true;
        match line.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => bad_header = Some(format!("bad Content-Length `{}`", value.trim())),
                }
            }
            Some(_) => {}
            None => bad_header = Some(format!("malformed header `{line}`")),
        }
    }
    let Some(length) = length else {
        return Ok(Frame::Skipped(
            bad_header.unwrap_or_else(|| "message without Content-Length".to_string()),
        ));
    };
    if length > MAX_BODY {
        io::copy(&mut input.by_ref().take(length as u64), &mut io::sink())?;
        return Ok(Frame::Skipped(format!(
            "message of {length} bytes is too large"
        )));
    }
    let mut body = Vec::new();
    input.by_ref().take(length as u64).read_to_end(&mut body)?;
    if body.len() < length {
        return Ok(Frame::Eof);
    }
    Ok(Frame::Body(body))
}

fn write_raw(out: &mut impl Write, body: &str) -> io::Result<()> {
    write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
    out.write_all(body.as_bytes())?;
    out.flush()
}

fn parse_error(why: &str) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": lsp_server::ErrorCode::ParseError as i32, "message": why },
    })
    .to_string()
}

fn invalid_request(id: Option<&serde_json::Value>, why: &str) -> String {
    let id = match id {
        Some(id @ (serde_json::Value::Number(_) | serde_json::Value::String(_))) => id.clone(),
        _ => serde_json::Value::Null,
    };
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": lsp_server::ErrorCode::InvalidRequest as i32, "message": why },
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn reads_past_malformed_messages() {
        let mut input = Vec::new();
        input.extend(frame(b"{not json"));
        input.extend(frame(&[0xff, 0xfe, b'{', b'}']));
        input.extend(frame(br#"{"jsonrpc":"2.0","result":1}"#));
        input.extend(b"Content-Length: abc\r\n\r\n");
        input.extend(frame(
            br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
        ));
        input.extend(frame(br#"{"jsonrpc":"2.0","method":"exit"}"#));
        input.extend(frame(br#"{"jsonrpc":"2.0","method":"never-read"}"#));
        let (tx, rx) = unbounded();
        let (raw_tx, raw_rx) = unbounded();
        read_loop(&mut io::Cursor::new(input), &tx, &raw_tx);
        let methods: Vec<String> = rx
            .try_iter()
            .map(|m| match m {
                Message::Notification(n) => n.method,
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(methods, ["initialized", "exit"]);
        let errors: Vec<String> = raw_rx.try_iter().collect();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors.iter().all(|e| e.contains("-32700")));
    }

    #[test]
    fn a_body_that_is_not_an_object_gets_an_invalid_request_error() {
        let mut input = Vec::new();
        for body in [
            &b"[]"[..],
            b"42",
            b"\"x\"",
            b"null",
            b"[{\"jsonrpc\":\"2.0\"}]",
        ] {
            input.extend(frame(body));
        }
        input.extend(frame(br#"{"jsonrpc":"2.0","method":"exit"}"#));
        let (tx, rx) = unbounded();
        let (raw_tx, raw_rx) = unbounded();
        read_loop(&mut io::Cursor::new(input), &tx, &raw_tx);
        let errors: Vec<String> = raw_rx.try_iter().collect();
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(errors.iter().all(|e| e.contains("-32600")), "{errors:?}");
        assert_eq!(rx.try_iter().count(), 1);
    }

    #[test]
    fn truncated_input_ends_cleanly() {
        let (tx, rx) = unbounded();
        let (raw_tx, _raw_rx) = unbounded();
        read_loop(
            &mut io::Cursor::new(b"Content-Length: 100\r\n\r\n{".to_vec()),
            &tx,
            &raw_tx,
        );
        assert!(rx.try_recv().is_err());
    }
}
