//! The archive package's `eep.xml` (DA/T 48's 电子文件封装包), checked as an archives would,
//! with an XML parser and the digest and signature crates only — not the engine: every file
//! at its 存储位置 hashes to its SHA-256 and SM3 摘要, the 办理过程 has one 业务实体 per event,
//! and the SM2 signature over the 被签名对象's bytes verifies; a changed byte fails it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use common::*;
use quick_xml::Reader;
use quick_xml::events::Event;
use sha2::Digest as _;
use sm2::dsa::signature::Verifier as _;
use workflow_store::Config;

/// An element: its path from the root (`a/b/c`), its attributes, its text.
type Element = (String, Vec<(String, String)>, String);

/// Each element of `xml`.
fn elements(xml: &str) -> Vec<Element> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                stack.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap());
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                            a.unescape_value().unwrap().into_owned(),
                        )
                    })
                    .collect();
                out.push((stack.join("/"), attrs, String::new()));
            }
            Event::Text(t) => {
                let text = t.decode().unwrap().into_owned();
                if let Some(last) = out.last_mut()
                    && last.0 == stack.join("/")
                {
                    last.2.push_str(&text);
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn texts<'a>(all: &'a [Element], suffix: &str) -> Vec<&'a Element> {
    all.iter().filter(|(p, _, _)| p.ends_with(suffix)).collect()
}

/// What an archives checks of a package: its files' digests and the signature.
fn check(package: &std::path::Path) -> Result<usize, String> {
    let raw = std::fs::read(package.join("eep.xml")).unwrap();
    let xml = std::str::from_utf8(&raw).unwrap();
    let all = elements(xml);
    assert_eq!(all[0].0, "电子文件封装包");
    let codings = texts(&all, "/文档数据/编码/存储位置");
    let sha = texts(&all, "/编码/摘要");
    for (i, (_, _, at)) in codings.iter().enumerate() {
        let bytes = std::fs::read(package.join(at)).map_err(|e| format!("{at}: {e}"))?;
        let (want_sha, want_sm3) = (&sha[2 * i], &sha[2 * i + 1]);
        assert_eq!(want_sha.1, vec![("算法".to_owned(), "SHA-256".to_owned())]);
        assert_eq!(want_sm3.1, vec![("算法".to_owned(), "SM3".to_owned())]);
        if hex::encode(sha2::Sha256::digest(&bytes)) != want_sha.2 {
            return Err(format!("{at}: SHA-256 differs"));
        }
        if hex::encode(<sm3::Sm3 as sm3::Digest>::digest(&bytes)) != want_sm3.2 {
            return Err(format!("{at}: SM3 differs"));
        }
    }
    // The signature: over the 被签名对象 element's bytes as written.
    let start = xml.find("<被签名对象").unwrap();
    let end = xml.find("</被签名对象>").unwrap() + "</被签名对象>".len();
    let one = |suffix: &str| texts(&all, suffix)[0].2.clone();
    assert_eq!(one("/电子签名/签名算法标识"), "1.2.156.10197.1.501");
    let key = sm2::dsa::VerifyingKey::from_sec1_bytes(
        &one("/电子签名/签名人"),
        &hex::decode(one("/证书块/证书")).unwrap(),
    )
    .unwrap();
    let signature = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        one("/电子签名/签名结果"),
    )
    .unwrap();
    let signature = sm2::dsa::Signature::try_from(signature.as_slice()).unwrap();
    key.verify(&raw[start..end], &signature)
        .map_err(|_| "the signature does not verify".to_owned())?;
    Ok(texts(&all, "/业务实体块/业务实体").len())
}

#[tokio::test]
async fn a_signed_package_checks_with_an_xml_parser_and_the_digests_alone() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_with(Config {
        printer: Some(std::sync::Arc::new(workflow_testkit::print::SmallPdf::default()).handle()),
        ..Config::new(dir.path())
    })
    .await;
    let id = new_id();
    for (actor, action) in full_flow().into_iter().take(steps::ARCHIVED) {
        run(&engine, id, actor.as_str(), action).await;
    }
    let key = workflow_store::sign::SoftwareSm2::from_bytes(&[9u8; 32], "office@campus").unwrap();
    let package = dir.path().join("package");
    engine
        .export_document_signed(id, &package, workflow_testkit::clock::now(), Some(&key))
        .unwrap();
    let events = engine.history(id).unwrap().len();
    assert_eq!(check(&package), Ok(events), "one 业务实体 per event");
    let xml = std::fs::read_to_string(package.join("eep.xml")).unwrap();
    for element in [
        "<封装包格式描述>",
        "<版本>2009</版本>",
        "<被签名对象 eep版本=\"2009\">",
        "<文件实体块>",
        "<业务实体块>",
        "<机构人员实体块>",
        "<电子签名块>",
        "<全宗号>",
        "<件号>1</件号>",
        "<业务行为>印发</业务行为>",
        "<机构人员类型>个人</机构人员类型>",
    ] {
        assert!(xml.contains(element), "{element} in {xml}");
    }
    // The manifest fixes eep.xml too: the package verifies as before.
    assert!(
        workflow_store::export::verify_package(&package)
            .unwrap()
            .is_intact()
    );
    assert!(
        xml.contains("<计算机文件名>X校发〔"),
        "the printed 公文 in it: {xml}"
    );
    // A file changed by one byte: its digest no longer matches.
    let printed = std::fs::read_dir(package.join("files"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let original = std::fs::read(&printed).unwrap();
    let mut flipped = original.clone();
    flipped[3] ^= 1;
    std::fs::write(&printed, &flipped).unwrap();
    assert!(check(&package).unwrap_err().ends_with("SHA-256 differs"));
    std::fs::write(&printed, &original).unwrap();
    // One character of the title changed: the signature no longer verifies.
    let altered = xml.replacen("考务", "考试", 1);
    assert_ne!(altered, xml);
    std::fs::write(package.join("eep.xml"), altered).unwrap();
    assert_eq!(
        check(&package),
        Err("the signature does not verify".to_owned())
    );
}
