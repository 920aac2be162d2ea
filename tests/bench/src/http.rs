//! The benches' minimal HTTP/1.1 client: one request at a time on a kept-alive
//! connection, so the measured cost is the server's, not a client library's.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request and its answer on a kept-alive connection (opened when there is none);
/// the answer must carry `content-length`, as the gateway's JSON answers do.
pub async fn exchange(
    connection: &mut Option<TcpStream>,
    addr: SocketAddr,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> Result<(), String> {
    if connection.is_none() {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        *connection = Some(stream);
    }
    let Some(stream) = connection.as_mut() else {
        unreachable!("connected above")
    };
    stream.write_all(request).await.map_err(|e| e.to_string())?;
    buf.clear();
    let mut chunk = [0u8; 16384];
    let mut expected = None;
    loop {
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if expected.is_none() {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                if !head.starts_with("http/1.1 2") {
                    let status = head.lines().next().unwrap_or_default().to_owned();
                    return Err(format!(
                        "{status}: {}",
                        String::from_utf8_lossy(&buf[end..])
                    ));
                }
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .ok_or("no content-length")?;
                expected = Some(end + 4 + length);
            }
        }
        if expected.is_some_and(|total| buf.len() >= total) {
            return Ok(());
        }
    }
}
