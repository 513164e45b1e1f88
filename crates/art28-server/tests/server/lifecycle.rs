use crate::harness::{start, try_start};
use art28_core::ErrorCode;
use serde_json::Value;

#[tokio::test]
async fn starts_empty_then_restarts_with_everything_kept() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("nested/data");
    let s = start(&data, false).await;
    let customers: Vec<Value> = s
        .get("/api/v1/customers")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(customers.is_empty());
    let token = s.token.clone();
    s.stop().await;

    let s = start(&data, true).await;
    assert_eq!(s.token, token, "the token survives a restart");
    let first: Vec<Value> = s
        .get("/api/v1/customers")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(first.len(), 3, "demo customers");
    s.stop().await;

    // Loading the demo again changes nothing.
    let s = start(&data, true).await;
    let again: Vec<Value> = s
        .get("/api/v1/customers")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(first, again);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("operator.token"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "token readable by its owner only");
    }
    s.stop().await;
}

#[tokio::test]
async fn a_second_server_cannot_open_the_same_data_directory() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), false).await;
    let err = try_start(dir.path(), false).await.err().expect("refused");
    assert_eq!(err.code, ErrorCode::Unavailable);
    s.stop().await;
    // Once the first has stopped, the directory is free again.
    let s = start(dir.path(), false).await;
    s.stop().await;
}
