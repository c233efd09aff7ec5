//! Other processes' commits, heard through `LISTEN/NOTIFY`.

use super::*;

/// Keeps one connection listening for other processes' commits, and tells `foreign` of
/// them (several at once as one). Reconnects when the connection is lost, and then says
/// `0`: commits may have been missed meanwhile.
pub(super) async fn listen(
    config: tokio_postgres::Config,
    token: String,
    foreign: Arc<Mutex<Option<ForeignCommits>>>,
    shown: String,
) {
    use futures::StreamExt;
    let tell = |end: u64| {
        let f = foreign.lock().ok().and_then(|f| f.clone());
        if let Some(f) = f {
            f(end);
        }
    };
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (ntx, mut nrx) = tokio::sync::mpsc::unbounded_channel::<String>();
                let driver = tokio::spawn(async move {
                    let mut messages = futures::stream::poll_fn(|cx| connection.poll_message(cx));
                    while let Some(m) = messages.next().await {
                        match m {
                            Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                                if ntx.send(n.payload().to_owned()).is_err() {
                                    break;
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "the PostgreSQL listening connection failed");
                                break;
                            }
                        }
                    }
                });
                match client
                    .batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
                    .await
                {
                    Ok(()) => {
                        // Commits may have been made before anyone listened (between the
                        // engine's reading the log's end and now, or while reconnecting).
                        tell(0);
                        while let Some(payload) = nrx.recv().await {
                            let mut end = foreign_end(&payload, &token);
                            // Several waiting notifications are told as one.
                            while let Ok(more) = nrx.try_recv() {
                                end = end.max(foreign_end(&more, &token));
                            }
                            if end > 0 {
                                tell(end);
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, store = %shown, "cannot LISTEN for other processes' commits");
                    }
                }
                driver.abort();
            }
            Err(e) => {
                tracing::warn!(error = %e, store = %shown, "cannot connect to listen for other processes' commits; retrying");
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// The log's end a notification names, `0` for this storage's own commits (or a payload
/// it does not understand).
pub(super) fn foreign_end(payload: &str, token: &str) -> u64 {
    match payload.split_once(' ') {
        Some((t, end)) if t != token => end.parse().unwrap_or(0),
        _ => 0,
    }
}
