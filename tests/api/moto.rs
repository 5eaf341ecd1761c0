//! A real S3-compatible server for the tests: `moto_server` (PyPI `moto[server]`) on a
//! free loopback port, with one bucket, stopped when dropped.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

pub struct Moto {
    child: Child,
    pub addr: SocketAddr,
    pub bucket: String,
}

impl Moto {
    pub async fn start(bucket: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server (PyPI moto[server]; .ci/test installs it)");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut moto = Self {
            child,
            addr,
            bucket: bucket.to_owned(),
        };
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited: {status}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let made = crate::http::request(addr, "PUT", &format!("/{bucket}"), &[], &[]).await;
        assert_eq!(made.status, 200, "bucket {bucket}: {}", made.text());
        moto
    }

    /// The AWS variables that point a client at this server.
    pub fn envs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", format!("http://{}", self.addr)),
            ("AWS_ACCESS_KEY_ID", "kvota-test".into()),
            ("AWS_SECRET_ACCESS_KEY", "kvota-test-secret".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// The object at `key` in the bucket, if there is one, read with a signed request
    /// (moto refuses anonymous reads).
    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        use object_store::ObjectStore;
        let mut builder = object_store::aws::AmazonS3Builder::new().with_bucket_name(&self.bucket);
        for (k, v) in self.envs() {
            builder = builder.with_config(k.to_ascii_lowercase().parse().unwrap(), v);
        }
        let store = builder.build().unwrap();
        match store.get(&object_store::path::Path::from(key)).await {
            Ok(r) => Some(r.bytes().await.unwrap().to_vec()),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("GET {key}: {e}"),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
