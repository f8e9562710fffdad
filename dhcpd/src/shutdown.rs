//! The stop signal every task of the daemon watches: a `watch` channel that
//! turns `true` once, at shutdown.

use tokio::sync::watch;

/// Resolves once `stop` is `true` or its sender is gone; use it as the stop
/// branch of a task's `select!` (it is cancel-safe: a `select!` that takes
/// another branch loses nothing).
pub async fn requested(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_on_true_or_a_dropped_sender_but_not_on_false() {
        let (tx, mut rx) = watch::channel(false);
        tx.send(false).expect("send");
        let early = tokio::time::timeout(std::time::Duration::from_millis(20), requested(&mut rx));
        assert!(early.await.is_err(), "false is no stop");
        tx.send(true).expect("send");
        requested(&mut rx).await;
        let (tx2, mut rx2) = watch::channel(false);
        drop(tx2);
        requested(&mut rx2).await;
    }
}
