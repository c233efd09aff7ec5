//! The server with TLS from the configuration's certificate paths, and a client that
//! trusts only that certificate.

use crate::common::*;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
use workflow_grpc::TlsConfig;
use workflow_grpc::pb;
use workflow_grpc::pb::document_workflow_client::DocumentWorkflowClient;

#[tokio::test]
async fn tls_from_the_configured_certificate_paths() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let mut config = config(&dir.path().join("data"));
    config.tls = Some(TlsConfig {
        cert: cert_path,
        key: key_path,
    });
    let server = start_with(config, workflow_testkit::clock::running_clock()).await;

    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(cert.cert.pem()))
        .domain_name("localhost");
    let channel = Endpoint::from_shared(format!("https://{}", server.addr))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = DocumentWorkflowClient::with_interceptor(channel, Bearer::new(Some(OA_TOKEN)));
    let r = client
        .list_documents(pb::ListDocumentsRequest {
            actor_id: "li.qiang".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.documents.is_empty());
    // A plaintext client cannot talk to it.
    let plain = Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect()
        .await;
    if let Ok(channel) = plain {
        let mut c = DocumentWorkflowClient::with_interceptor(channel, Bearer::new(Some(OA_TOKEN)));
        let call = c.list_documents(pb::ListDocumentsRequest {
            actor_id: "li.qiang".into(),
            ..Default::default()
        });
        assert!(
            tokio::time::timeout(std::time::Duration::from_secs(5), call)
                .await
                .map_or(true, |r| r.is_err())
        );
    }
    server.stop().await;
}
