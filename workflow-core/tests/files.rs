//! The files a document names (DESIGN §10): only files their namer uploaded, each as it was
//! kept; approvals bound to the 正文 they were given on.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

use workflow_core::content::{DocumentFiles, FileRef};
use workflow_core::error::ErrorClass;
use workflow_core::incoming::{Attachment, Incoming, IncomingAction};
use workflow_core::outgoing::Outgoing;
use workflow_core::outgoing::{Action, EventData};
use workflow_core::submission::{Submission, SubmissionAction, SubmissionEvent};
use workflow_core::{ActorId, Context, Directory, Error, Flow, FlowCommand};
use workflow_testkit::script::{FlowScript, Script};
use workflow_testkit::submission::{MemoScript, memo_fields};
use workflow_testkit::{SAMPLE_FILE, SAMPLE_FILE_NAME, full_flow, sample, steps};

/// The fixture's directory with the sample PDF uploaded by the drafter, another PDF by a
/// reviewer; answers the two as events name them.
fn directory_with_files() -> (Directory, FileRef, FileRef) {
    let mut dir = workflow_testkit::directory();
    let drafter = sample().drafter;
    let plan = dir.keep_file(SAMPLE_FILE_NAME, SAMPLE_FILE, &drafter);
    let other = dir.keep_file(
        "审核意见.pdf",
        b"%PDF-1.7\n another text",
        &"li.qiang".into(),
    );
    (dir, plan, other)
}

fn with_main(file: &FileRef) -> workflow_core::outgoing::DraftFields {
    let mut fields = sample().fields;
    fields.files = DocumentFiles {
        main: Some(Box::new(file.clone())),
        attachments: Vec::new(),
    };
    fields
}

fn reviewer() -> ActorId {
    full_flow()[steps::IN_REVIEW].0.clone()
}

#[test]
fn a_draft_names_only_files_its_drafter_uploaded_as_they_were_kept() {
    let (dir, plan, other) = directory_with_files();
    let mut s = Script::with_directory(dir);
    let drafter = sample().drafter;
    // Another's upload, and a digest nobody uploaded, are told alike: not uploaded by them.
    let mut nobody = plan.clone();
    nobody.digest = workflow_core::content::Digest::parse(&"e".repeat(64)).unwrap();
    for (file, what) in [
        (&other, "another's upload"),
        (&nobody, "bytes never uploaded"),
    ] {
        let e = s.err(drafter.as_str(), Action::Draft(with_main(file)));
        assert_eq!(e.reason(), "FILE_NOT_UPLOADED", "{what}: {e}");
        assert_eq!(e.class(), ErrorClass::FailedPrecondition);
        assert!(e.to_string().contains(file.digest.as_str()), "{e}");
        assert!(
            matches!(&e, Error::FileNotUploaded { field, .. } if field == "files.main"),
            "{e:?}"
        );
    }
    // The file as kept: its size and a media type its bytes bear out; a name that names
    // no place.
    type Change = Box<dyn Fn(&mut FileRef)>;
    let cases: Vec<(&str, Change)> = vec![
        ("files.main.size", Box::new(|f| f.size += 1)),
        (
            "files.main.media_type",
            Box::new(|f| f.media_type = "text/html".into()),
        ),
        (
            "files.main.name",
            Box::new(|f| f.name = "../方案.pdf".into()),
        ),
    ];
    for (field, change) in cases {
        let mut f = plan.clone();
        change(&mut f);
        let e = s.err(drafter.as_str(), Action::Draft(with_main(&f)));
        assert!(
            matches!(&e, Error::InvalidField { field: got, .. } if got == field),
            "{field}: {e:?}"
        );
    }
    // The same file twice.
    let mut twice = with_main(&plan);
    twice.files.attachments.push(plan.clone());
    let e = s.err(drafter.as_str(), Action::Draft(twice));
    assert!(
        matches!(&e, Error::InvalidField { field, .. } if field == "files.attachments[0].sha256"),
        "{e:?}"
    );
    // Its own upload is named, and is then a file one may read through the document.
    s.ok(drafter.as_str(), Action::Draft(with_main(&plan)));
    assert_eq!(
        Outgoing::files(s.doc()),
        vec![(SAMPLE_FILE_NAME, plan.digest.as_str())]
    );
}

#[test]
fn a_revision_keeps_the_files_the_document_names_without_uploading_them_again() {
    let (dir, plan, _) = directory_with_files();
    let mut s = Script::with_directory(dir);
    s.drafted_with(with_main(&plan));
    let doc = s.doc().clone();
    let drafter = sample().drafter;
    // Against a directory that knows of no upload (a store copied elsewhere, say), a
    // revision naming the files the document names already is accepted; a new one is not.
    let fresh = workflow_testkit::directory();
    let mut fields = with_main(&plan);
    fields.title = "关于开展评估自评工作的通知（修改稿）".into();
    let revise = |fields| FlowCommand {
        document_id: doc.id(),
        actor: drafter.clone(),
        at: workflow_testkit::clock::start_of_term(),
        action: Action::Revise(fields),
    };
    assert!(Outgoing::decide(Some(&doc), &revise(fields.clone()), &fresh).is_ok());
    let mut added = fields;
    added.files.attachments.push(FileRef {
        name: "附件.pdf".into(),
        ..plan.clone()
    });
    added.files.attachments[0].digest =
        workflow_core::content::Digest::parse(&"a".repeat(64)).unwrap();
    let e = Outgoing::decide(Some(&doc), &revise(added), &fresh).unwrap_err();
    assert_eq!(e.reason(), "FILE_NOT_UPLOADED");
    // A file the document names may be renamed, never relabelled: its size and media type
    // stay those it was kept with.
    let mut relabelled = with_main(&plan);
    relabelled.files.main.as_mut().unwrap().media_type = "text/html".into();
    let e = Outgoing::decide(Some(&doc), &revise(relabelled), &fresh).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidField { field, .. } if field == "files.main.media_type"),
        "{e:?}"
    );
    let mut resized = with_main(&plan);
    resized.files.main.as_mut().unwrap().size = 1;
    let e = Outgoing::decide(Some(&doc), &revise(resized), &fresh).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidField { field, .. } if field == "files.main.size"),
        "{e:?}"
    );
    let mut renamed = with_main(&plan);
    renamed.files.main.as_mut().unwrap().name = "评估方案（定稿）.pdf".into();
    assert!(Outgoing::decide(Some(&doc), &revise(renamed), &fresh).is_ok());
}

#[test]
fn approvals_record_the_text_they_were_given_on_and_a_changed_one_is_refused() {
    let (mut dir, plan, _) = directory_with_files();
    let drafter = sample().drafter;
    let revised = dir.keep_file("正文（修改稿）.pdf", b"%PDF-1.7\n revised", &drafter);
    let mut s = Script::with_directory(dir);
    s.drafted_with(with_main(&plan));
    s.steps(steps::DRAFTED, steps::IN_REVIEW);
    // The reviewer was shown another text: ABORTED, nothing recorded.
    let e = s.err(
        reviewer().as_str(),
        Action::Approve {
            opinion: "同意。".into(),
            stage: None,
            content: Some(revised.digest.clone()),
        },
    );
    assert_eq!(
        (e.reason(), e.class()),
        ("CONTENT_CHANGED", ErrorClass::Aborted)
    );
    assert!(e.to_string().contains(plan.digest.as_str()), "{e}");
    // Given on the current text, the approval records it; so does one that names none.
    let events = s
        .run(
            reviewer().as_str(),
            Action::Approve {
                opinion: "同意。".into(),
                stage: None,
                content: Some(plan.digest.clone()),
            },
        )
        .unwrap();
    assert!(
        matches!(&events[0].data, EventData::Approved { content: Some(d), .. } if *d == plan.digest),
        "{:?}",
        events[0].data
    );
    let rest = full_flow();
    for (actor, action) in &rest[steps::COUNTERSIGNING..steps::SIGNED_OFF] {
        let events = s.run(actor.as_str(), action.clone()).unwrap();
        for e in &events {
            match &e.data {
                EventData::Countersigned { content, .. } | EventData::Signed { content, .. } => {
                    assert_eq!(content.as_ref(), Some(&plan.digest), "{:?}", e.data);
                }
                _ => {}
            }
        }
    }
    // A document without a 正文 file records none (as before files were kept).
    let mut plain = Script::new();
    plain.awaiting_sign_off();
    let (signer, sign) = rest[steps::AWAITING_SIGN_OFF].clone();
    let events = plain.run(signer.as_str(), sign).unwrap();
    assert!(matches!(
        &events[0].data,
        EventData::Signed { content: None, .. }
    ));
}

#[test]
fn a_revised_text_needs_its_review_again_before_it_is_signed() {
    let (mut dir, plan, _) = directory_with_files();
    let drafter = sample().drafter;
    let revised = dir.keep_file("正文（修改稿）.pdf", b"%PDF-1.7\n revised", &drafter);
    let mut s = Script::with_directory(dir);
    s.drafted_with(with_main(&plan));
    s.steps(steps::DRAFTED, steps::IN_REVIEW);
    s.ok(
        reviewer().as_str(),
        Action::Return {
            reason: "请修改第二段。".into(),
            stage: None,
        },
    );
    s.ok(drafter.as_str(), Action::Revise(with_main(&revised)));
    // An approval of the text as it was before the revision no longer lands.
    s.steps(steps::DRAFTED, steps::IN_REVIEW);
    let e = s.err(
        reviewer().as_str(),
        Action::Approve {
            opinion: "同意。".into(),
            stage: None,
            content: Some(plan.digest.clone()),
        },
    );
    assert_eq!(e.reason(), "CONTENT_CHANGED");
    // The route runs again from its first stage: every approval before 签发 is of the
    // revised text.
    s.ok(
        reviewer().as_str(),
        Action::Approve {
            opinion: "同意。".into(),
            stage: None,
            content: Some(revised.digest.clone()),
        },
    );
    let rest = full_flow();
    for (actor, action) in &rest[steps::COUNTERSIGNING..steps::AWAITING_SIGN_OFF] {
        s.ok(actor.as_str(), action.clone());
    }
    let (signer, _) = rest[steps::AWAITING_SIGN_OFF].clone();
    let e = s.err(
        signer.as_str(),
        Action::SignOff {
            opinion: "同意印发。".into(),
            content: Some(plan.digest.clone()),
        },
    );
    assert_eq!(e.reason(), "CONTENT_CHANGED");
    s.ok(
        signer.as_str(),
        Action::SignOff {
            opinion: "同意印发。".into(),
            content: Some(revised.digest.clone()),
        },
    );
}

#[test]
fn a_memo_carries_its_files_and_its_instruction_is_bound_to_its_text() {
    let mut dir = workflow_testkit::directory();
    let mut fields = memo_fields();
    let deadline = chrono::NaiveDate::from_ymd_opt(2027, 4, 30).unwrap();
    let sample_flow = workflow_testkit::submission::memo_flow(deadline, &sample().fonds);
    let text = dir.keep_file(SAMPLE_FILE_NAME, SAMPLE_FILE, &sample_flow[0].0.into());
    fields.files.main = Some(Box::new(text.clone()));
    let mut s: MemoScript = FlowScript::with_directory(dir);
    assert_eq!(s.deadline(), deadline);
    let endorse_at = sample_flow
        .iter()
        .position(|(_, a)| matches!(a, SubmissionAction::EndorseMemo { .. }))
        .expect("the sample flow has a 批示");
    s.ok(sample_flow[0].0, SubmissionAction::DraftMemo { fields });
    assert_eq!(
        Submission::files(s.memo()),
        vec![(SAMPLE_FILE_NAME, text.digest.as_str())]
    );
    s.steps(1, endorse_at);
    let (leader, endorse) = sample_flow[endorse_at].clone();
    let SubmissionAction::EndorseMemo {
        decision,
        text: words,
        supervise,
        ..
    } = endorse
    else {
        unreachable!()
    };
    let stale = workflow_core::content::Digest::parse(&"b".repeat(64)).unwrap();
    let e = s.err(
        leader,
        SubmissionAction::EndorseMemo {
            decision,
            text: words.clone(),
            supervise: supervise.clone(),
            content: Some(stale),
        },
    );
    assert_eq!(e.reason(), "CONTENT_CHANGED");
    let events = s
        .run(
            leader,
            SubmissionAction::EndorseMemo {
                decision,
                text: words,
                supervise,
                content: Some(text.digest.clone()),
            },
        )
        .unwrap();
    assert!(
        events.iter().any(|e| matches!(
            &e.data,
            SubmissionEvent::MemoEndorsed { content: Some(d), .. } if *d == text.digest
        )),
        "{events:?}"
    );
}

#[test]
fn a_registration_names_the_files_its_registrar_uploaded() {
    let sample = workflow_testkit::incoming::incoming_sample();
    let mut dir = workflow_testkit::directory();
    let file = dir.keep_file(SAMPLE_FILE_NAME, SAMPLE_FILE, &sample.registrar);
    let by_another = dir.keep_file("另件.pdf", b"%PDF-1.7\n elsewhere", &"wang.fang".into());
    let mut s: FlowScript<Incoming> = FlowScript::with_directory(dir);
    let register = |files: DocumentFiles, attachments: Vec<Attachment>| {
        let mut registration = sample.registration.clone();
        registration.files = files;
        registration.attachments = attachments;
        IncomingAction::Register {
            registration,
            unit: None,
        }
    };
    let registrar = sample.registrar.as_str();
    let e = s.err(
        registrar,
        register(
            DocumentFiles {
                main: Some(Box::new(by_another.clone())),
                attachments: vec![],
            },
            vec![],
        ),
    );
    assert_eq!(e.reason(), "FILE_NOT_UPLOADED");
    // An attachment named by digest alone is held to the same rule.
    // Named well, and once.
    let e = s.err(
        registrar,
        register(
            DocumentFiles::default(),
            vec![Attachment {
                name: "../方案.pdf".into(),
                sha256: file.digest.to_string(),
            }],
        ),
    );
    assert!(
        matches!(&e, Error::InvalidField { field, .. } if field == "registration.attachments[0].name"),
        "{e:?}"
    );
    let e = s.err(
        registrar,
        register(
            DocumentFiles {
                main: Some(Box::new(file.clone())),
                attachments: vec![],
            },
            vec![Attachment {
                name: "方案.pdf".into(),
                sha256: file.digest.to_string(),
            }],
        ),
    );
    assert!(
        matches!(&e, Error::InvalidField { field, .. } if field == "registration.attachments[0].sha256"),
        "{e:?}"
    );
    let e = s.err(
        registrar,
        register(
            DocumentFiles {
                main: Some(Box::new(by_another.clone())),
                attachments: vec![],
            },
            vec![],
        ),
    );
    assert!(
        matches!(&e, Error::FileNotUploaded { field, .. } if field == "registration.files.main"),
        "{e:?}"
    );
    let e = s.err(
        registrar,
        register(
            DocumentFiles::default(),
            vec![Attachment {
                name: "自评自建工作方案.pdf".into(),
                sha256: "d53deafaed2aaad6468bc5a1415ac13bcaf830a78e2bcb99de2dc1012f1f9704".into(),
            }],
        ),
    );
    assert!(
        matches!(&e, Error::FileNotUploaded { field, .. } if field == "registration.attachments[0]"),
        "{e:?}"
    );
    s.ok(
        registrar,
        register(
            DocumentFiles {
                main: None,
                attachments: vec![file.clone()],
            },
            vec![],
        ),
    );
    assert_eq!(
        Incoming::files(s.current()),
        vec![(SAMPLE_FILE_NAME, file.digest.as_str())]
    );
}

#[test]
fn a_directory_tells_only_the_uploader_of_a_file() {
    let (dir, plan, _) = directory_with_files();
    let drafter = sample().drafter;
    assert!(dir.uploaded_file(&plan.digest, &drafter).unwrap().is_some());
    assert!(
        dir.uploaded_file(&plan.digest, &"li.qiang".into())
            .unwrap()
            .is_none()
    );
}
