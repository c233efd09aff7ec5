//! The notification outbox in a sled store (DESIGN §12): what an opened outbox takes over —
//! the first build's single position, and channels a process now gone still held.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

use workflow_store::Engine;

/// The first build kept one position derived through (`t`) and every delivery; opened by
/// this one, each channel it has deliveries of goes on from that place (no notice since it
/// is skipped), a channel it has none of is left to start where it is configured, and a
/// channel a process now gone held is let go.
#[test]
fn an_outbox_of_the_first_build_keeps_its_place_per_channel() {
    let dir = tempfile::tempdir().unwrap();
    drop(Engine::open(dir.path()).unwrap());
    {
        let db = sled::open(dir.path().join("outbox")).unwrap();
        let tree = db.open_tree("outbox").unwrap();
        tree.insert(b"t", &42u64.to_be_bytes()).unwrap();
        let delivery = serde_json::json!({
            "id": "00000000001e0123456789abcdef0123",
            "notice_id": "n",
            "position": 30,
            "channel": "portal",
            "address": "",
            "kind": "todo",
            "recipient": "li.qiang",
            "document_id": "00000000-0000-0000-0000-00000000000b",
            "subject": "【待办】",
            "text": "t",
            "url": "",
            "due_on": null,
            "data": null,
            "created_at": 0,
            "state": "delivered",
            "attempts": 1,
            "next_at": 0,
            "last_error": null,
            "delivered_at": 1,
        });
        tree.insert(
            b"d/00000000001e0123456789abcdef0123",
            serde_json::to_vec(&delivery).unwrap(),
        )
        .unwrap();
        let held = serde_json::json!({
            "channel": "mail", "through": 7, "delivered": 3, "settled_at": 0,
            "holder": "gone/1/abcd", "lease_until": i64::MAX,
        });
        tree.insert(b"c/mail", serde_json::to_vec(&held).unwrap())
            .unwrap();
        db.flush().unwrap();
    }
    let engine = Engine::open(dir.path()).unwrap();
    let channels = engine.outbox_status().unwrap().channels;
    let places: Vec<(&str, u64, &str)> = channels
        .iter()
        .map(|c| (c.channel.as_str(), c.through, c.holder.as_str()))
        .collect();
    assert_eq!(places, [("mail", 7, ""), ("portal", 42, "")]);
    drop(engine);
    // Taken over once: reopened, nothing changes.
    let engine = Engine::open(dir.path()).unwrap();
    assert_eq!(engine.outbox_status().unwrap().channels, channels);
}
