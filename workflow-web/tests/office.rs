//! The console as an office uses it on day one (issue #38): the action that is the
//! person's offered whatever they will fill in, a draft that came back revised and sent
//! again from its card, units and people chosen by name, and no code or English word on
//! any page a member of staff sees.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::{Browser, Console, error_message};
use workflow_core::DocumentId;
use workflow_testkit::incoming::{incoming_sample, instruct_flow};

/// The sample 收文, registered and screened: with the office for 拟办.
async fn incoming_at_proposal(c: &Console) -> DocumentId {
    let s = incoming_sample();
    let id = workflow_testkit::engine::new_id();
    for (actor, action) in instruct_flow(&s, "X001").into_iter().take(2) {
        let req = workflow_store::Request::new(id, actor.as_str(), action);
        c.engine.execute(req).await.unwrap();
    }
    id
}

/// The director's 拟办 from the card: to the sample's leader for 批办.
async fn propose_to_the_leader(c: &Console, director: &Browser, id: DocumentId) {
    let leader = incoming_sample().leader;
    let a = c
        .act(
            director,
            id,
            &[
                ("action", "ProposeHandling"),
                ("version", "2"),
                ("leader", leader.as_str()),
                ("opinion", "拟请校领导阅示。"),
                ("command_id", "c1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
}

#[tokio::test]
async fn the_office_director_is_offered_the_proposal_with_leaders_to_choose_from() {
    let c = Console::new().await;
    let s = incoming_sample();
    let id = incoming_at_proposal(&c).await;
    let director = c.signed_in(s.director.as_str()).await;
    let page = c.get(&director, &format!("/doc/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    // Offered whoever the leader will be (the dry run does not decide it by a guess).
    assert!(
        page.body.contains("data-action=\"ProposeHandling\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-fill=\"拟请校领导阅示\""));
    // The leader is picked by name, under their unit; only leaders are offered.
    let leader = c.engine.actor(&s.leader).unwrap();
    assert!(
        page.body.contains(&format!(
            "<option value=\"{}\">{}</option>",
            s.leader, leader.name
        )),
        "{}",
        page.body
    );
    let director_actor = c.engine.actor(&s.director).unwrap();
    assert!(
        !page
            .body
            .contains(&format!("<option value=\"{}\">", s.director)),
        "the director is no leader: {}",
        director_actor.name
    );
    // Chosen and sent: the 收文 goes to that leader.
    propose_to_the_leader(&c, &director, id).await;
    let r = c.engine.state(id).unwrap().unwrap();
    assert_eq!(r.version(), 3);
    assert_eq!(r.particulars().state, "AwaitingInstruction");
}

#[tokio::test]
async fn a_draft_sent_back_is_revised_and_sent_again_from_its_card() {
    let c = Console::new().await;
    let id = c.sample_document(2, None).await;
    let sent_along: Vec<_> = c
        .engine
        .document(id)
        .unwrap()
        .unwrap()
        .route()
        .iter()
        .map(|s| s.spec.clone())
        .collect();
    let li = c.signed_in("li.qiang").await;
    let a = c
        .act(
            &li,
            id,
            &[
                ("action", "Return"),
                ("version", "2"),
                ("reason", "请补充考试安排。"),
                ("confirm", "yes"),
                ("command_id", "r1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);

    let wang = c.signed_in("wang.fang").await;
    let page = c.get(&wang, &format!("/doc/{id}")).await;
    let title = c
        .engine
        .document(id)
        .unwrap()
        .unwrap()
        .fields()
        .title
        .clone();
    // 修改 first and open, with the draft's title as it is; 重新送审 beside it; 作废 last.
    let at = |needle: &str| {
        page.body
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}: {}", page.body))
    };
    assert!(at("data-action=\"Revise\"") < at("data-action=\"SubmitForReview\""));
    assert!(at("data-action=\"SubmitForReview\"") < at("data-action=\"Void\""));
    assert!(page.body.contains("id=\"act-Revise\" open>"));
    assert!(
        page.body
            .contains(&format!("name=\"title\" value=\"{title}\" required>")),
        "{}",
        page.body
    );

    // An empty title is refused in words, and the text typed stays.
    let a = c
        .act(
            &wang,
            id,
            &[
                ("action", "Revise"),
                ("version", "3"),
                ("title", " "),
                ("body", "第一条 考试安排见附件。"),
                ("command_id", "v0"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(error_message(&a.body).contains("标题"), "{}", a.body);
    assert!(a.body.contains(">第一条 考试安排见附件。</textarea>"));
    assert_eq!(c.engine.document(id).unwrap().unwrap().version(), 3);

    let revised = format!("{title}（修订）");
    let a = c
        .act(
            &wang,
            id,
            &[
                ("action", "Revise"),
                ("version", "3"),
                ("title", &revised),
                ("body", "第一条 考试安排见附件。"),
                ("command_id", "v1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let d = c.engine.document(id).unwrap().unwrap();
    assert_eq!(d.fields().title, revised);
    assert_eq!(d.fields().body, "第一条 考试安排见附件。");
    // What the draft had besides stays: its units, kind and recipients.
    assert_eq!(d.fields().issuing_unit.as_str(), "XB");
    let a = c
        .act(
            &wang,
            id,
            &[
                ("action", "SubmitForReview"),
                ("version", "4"),
                ("command_id", "s1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let d = c.engine.document(id).unwrap().unwrap();
    assert_eq!(d.state().name(), "InReview");
    assert_eq!(d.round(), 2);
    // Along the route it went before.
    let now_along: Vec<_> = d.route().iter().map(|s| s.spec.clone()).collect();
    assert_eq!(now_along, sent_along);
    // And li.qiang has it again.
    let page = c.get(&li, "/todo").await;
    assert!(page.body.contains(&format!("/doc/{id}")));
}

#[tokio::test]
async fn co_units_are_ticked_by_name_and_arrive_in_order() {
    let c = Console::new().await;
    let s = incoming_sample();
    let id = incoming_at_proposal(&c).await;
    let director = c.signed_in(s.director.as_str()).await;
    propose_to_the_leader(&c, &director, id).await;
    let leader = c.signed_in(s.leader.as_str()).await;
    let page = c.get(&leader, &format!("/doc/{id}")).await;
    // A leader's stock words are a 批示's, not the office's 拟办.
    assert!(page.body.contains("data-fill=\"请按拟办意见办理\""));
    assert!(!page.body.contains("data-fill=\"拟请校领导阅示\""));
    // Units by name: a select for the lead unit, boxes for the 协办 units.
    assert!(
        page.body.contains("<option value=\"JWC\">教务处</option>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<input type=\"checkbox\" name=\"co_units\" value=\"RSC\"> 人事处"),
        "{}",
        page.body
    );
    // Two boxes ticked send the name twice: both are 协办 units.
    let deadline = workflow_testkit::incoming::sample_deadline(&s).to_string();
    let a = c
        .act(
            &leader,
            id,
            &[
                ("action", "InstructIncoming"),
                ("version", "3"),
                ("lead_unit", "JWC"),
                ("co_units", "RSC"),
                ("co_units", "CWC"),
                ("deadline", &deadline),
                ("opinion", "请教务处牵头办理。"),
                ("command_id", "i1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let r = c.engine.state(id).unwrap().unwrap();
    let r = r.incoming().unwrap();
    let co: Vec<&str> = r
        .instruction()
        .unwrap()
        .co_units
        .iter()
        .map(|u| u.as_str())
        .collect();
    assert_eq!(co, ["RSC", "CWC"]);
}

/// The words of a page a person reads: its text without tags, scripts, styles and the
/// technical details folded for an administrator (`<code>`).
fn visible_words(html: &str) -> Vec<String> {
    let mut text = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        text.push(' ');
        let tag = &rest[lt..];
        let skip_to = ["script", "style", "code", "title"]
            .iter()
            .find(|t| tag.starts_with(&format!("<{t}")))
            .and_then(|t| tag.find(&format!("</{t}>")).map(|e| e + t.len() + 3));
        let end = skip_to.unwrap_or_else(|| tag.find('>').map_or(tag.len(), |e| e + 1));
        rest = &tag[end..];
    }
    text.push_str(rest);
    let text = text.replace("&#x27;", "'").replace("&quot;", "\"");
    // Account ids (wang.fang) and document ids are what they are.
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'))
        .filter(|w| !w.contains('.') && !w.contains('-'))
        .filter(|w| w.chars().filter(char::is_ascii_alphabetic).count() >= 2)
        // Ids and digests (long hex runs); a short word in hex letters ("Add") is a word.
        .filter(|w| w.len() < 8 || !w.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_owned)
        .collect()
}

/// Words a page may show in Latin letters: formats and units of measure.
const ALLOWED: &[&str] = &[
    "PDF", "OFD", "KB", "MB", "SHA", "CSV", "JSON", "HTML", "Markdown", "DOCX",
];

/// The Latin words on a page, each with the page's address.
fn latin_on(path: &str, body: &str) -> Vec<String> {
    visible_words(body)
        .into_iter()
        .filter(|w| !ALLOWED.contains(&w.as_str()))
        .map(|w| format!("{path}: {w}"))
        .collect()
}

/// The value of attribute `name` in an opening tag, if it has one.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(&tag[at..at + tag[at..].find('"')?])
}

/// The form controls on a page a person could not tell the purpose of (nor a screen
/// reader say): an input that is not hidden or a button, a select or a textarea, neither
/// inside a `<label>`, nor named by `aria-label`, nor by a `<label for>` of its id.
fn unlabelled_on(path: &str, body: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut rest = body;
    while let Some(lt) = rest.find('<') {
        let end = rest[lt..].find('>').map_or(rest.len(), |e| lt + e + 1);
        tags.push(&rest[lt..end]);
        rest = &rest[end..];
    }
    let fors: Vec<&str> = tags
        .iter()
        .filter(|t| t.starts_with("<label"))
        .filter_map(|t| attr(t, "for"))
        .collect();
    let mut depth = 0;
    let mut out = Vec::new();
    for tag in tags {
        let name: String = tag[1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect();
        match name.as_str() {
            "label" => depth += 1,
            "/label" => depth -= 1,
            "input" | "select" | "textarea" => {
                let kind = attr(tag, "type").unwrap_or("text");
                if name == "input" && matches!(kind, "hidden" | "submit" | "button" | "reset") {
                    continue;
                }
                let labelled = depth > 0
                    || attr(tag, "aria-label").is_some_and(|v| !v.trim().is_empty())
                    || attr(tag, "id").is_some_and(|id| fors.contains(&id));
                if !labelled {
                    out.push(format!("{path}: {tag}"));
                }
            }
            _ => {}
        }
    }
    out
}

/// The page at `path`, which must answer.
async fn page(c: &Console, b: &Browser, path: &str) -> String {
    let page = c.get(b, path).await;
    assert!(
        page.status.is_success(),
        "{path}: {} {}",
        page.status,
        page.body
    );
    page.body
}

#[tokio::test]
async fn no_page_a_member_of_staff_sees_shows_a_code_or_an_english_word_or_an_unlabelled_control() {
    let c = Console::new().await;
    let s = incoming_sample();
    let outgoing = c.sample_document(4, None).await;
    let issued = c.sample_document(7, None).await;
    let memo = c.sample_memo(5).await;
    let incoming = incoming_at_proposal(&c).await;
    let mut found = Vec::new();
    let mut unlabelled = Vec::new();
    let mut cards_read = std::collections::BTreeSet::new();
    for who in [
        "wang.fang",
        "li.qiang",
        "zhao.min",
        "huang.wei",
        "liu.yang",
        "xu.jing",
        s.director.as_str(),
        s.leader.as_str(),
        s.registrar.as_str(),
    ] {
        let b = c.signed_in(who).await;
        let mut paths = vec![
            "/todo".to_owned(),
            "/done".to_owned(),
            "/mine".to_owned(),
            "/archived".to_owned(),
            "/search".to_owned(),
            "/search?q=%E9%80%9A%E7%9F%A5".to_owned(),
            "/bulletin".to_owned(),
        ];
        if who == "xu.jing" {
            paths.push("/ops".to_owned());
        }
        if who == s.registrar.as_str() {
            paths.push("/register".to_owned());
        }
        for path in paths {
            let body = page(&c, &b, &path).await;
            unlabelled.extend(unlabelled_on(&path, &body));
            // The operator page shows the log's hashes and counts: not for the Latin walk.
            if path != "/ops" {
                found.extend(latin_on(&path, &body));
            }
        }
        // An error page is read too.
        let missing = c.get(&b, "/no/such/page").await;
        assert_eq!(missing.status, axum::http::StatusCode::NOT_FOUND);
        found.extend(latin_on("/no/such/page", &missing.body));
        for id in [outgoing, issued, memo, incoming] {
            let card = format!("/doc/{id}");
            let answer = c.get(&b, &card).await;
            // A document above this person's clearance is not theirs to read.
            if answer.status.is_success() {
                cards_read.insert(id);
                found.extend(latin_on(&card, &answer.body));
                unlabelled.extend(unlabelled_on(&card, &answer.body));
                let timeline = format!("{card}/timeline");
                found.extend(latin_on(&timeline, &page(&c, &b, &timeline).await));
            }
        }
    }
    assert_eq!(cards_read.len(), 4, "every flow's card was read by someone");
    found.sort();
    found.dedup();
    assert!(found.is_empty(), "Latin words on pages: {found:#?}");
    unlabelled.sort();
    unlabelled.dedup();
    assert!(
        unlabelled.is_empty(),
        "controls without a label: {unlabelled:#?}"
    );
}

#[tokio::test]
async fn the_card_names_units_and_people_and_writes_dates_as_the_office_does() {
    let c = Console::new().await;
    let id = c.sample_document(7, None).await;
    let b = c.signed_in("liu.yang").await;
    let page = c.get(&b, &format!("/doc/{id}")).await;
    assert!(
        page.body
            .contains("<tr><th>主办单位</th><td>校长办公室</td></tr>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(" CST"), "{}", page.body);
    assert!(!page.body.contains("[XB]"), "{}", page.body);
    // 拟稿时间 as the office writes it, to the minute: `2026年11月2日 09:00`.
    const AT: &str = "<tr><th>拟稿时间</th><td>";
    let at = &page.body[page.body.find(AT).expect("a 拟稿时间 line") + AT.len()..];
    let at = &at[..at.find("</td>").unwrap()];
    let (date, time) = at.split_once(' ').unwrap();
    let (y, rest) = date.split_once('年').unwrap();
    let (m, rest) = rest.split_once('月').unwrap();
    let d = rest.strip_suffix('日').unwrap();
    assert!(
        [y, m, d].iter().all(|n| n.parse::<u32>().is_ok()) && y.len() == 4,
        "{at}"
    );
    let (h, min) = time.split_once(':').unwrap();
    assert!(
        h.len() == 2 && min.len() == 2 && h.parse::<u32>().is_ok(),
        "{at}"
    );
    // The 待办 and lists say where a document comes from by name.
    let page = c.get(&b, "/search").await;
    assert!(
        page.body
            .contains("<td data-label=\"单位\">校长办公室</td>"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_refusal_names_the_field_by_its_label_and_the_person_by_name() {
    let c = Console::new().await;
    let memo = c.sample_memo(5).await; // with the office for 核稿
    let clerk = c.signed_in(workflow_testkit::submission::CLERK).await;
    let version = c.engine.state(memo).unwrap().unwrap().version().to_string();
    // The second leader chosen holds no 校领导 role (a hand-built form: the picker offers
    // leaders only): the refusal names the field as the form labels it and the person by
    // name, not `leaders[1]` and an account id.
    let a = c
        .act(
            &clerk,
            memo,
            &[
                ("action", "AcceptMemo"),
                ("version", &version),
                ("opinion", "拟同意。"),
                ("leaders", workflow_testkit::submission::DEPUTY),
                ("leaders", "wang.fang"),
                ("command_id", "a1"),
            ],
        )
        .await;
    assert!(a.status.is_client_error(), "{}", a.body);
    assert_eq!(
        error_message(&a.body),
        "“批示领导（按批示顺序）”所选的“王芳”没有办理此环节的职务，请另选。"
    );
    assert_eq!(latin_on("the refused form", &a.body), Vec::<String>::new());
    assert_eq!(
        c.engine.state(memo).unwrap().unwrap().version().to_string(),
        version
    );
}

#[tokio::test]
async fn a_form_s_own_check_names_the_field_as_that_form_labels_it() {
    let c = Console::new().await;
    let memo = c.sample_memo(6).await; // with 宋华 for 批示
    let deputy = c.signed_in(workflow_testkit::submission::DEPUTY).await;
    let version = c.engine.state(memo).unwrap().unwrap().version().to_string();
    let a = c
        .act(
            &deputy,
            memo,
            &[
                ("action", "EndorseMemo"),
                ("version", &version),
                ("decision", "agree"),
                ("text", "同意。"),
                ("supervise", "yes"),
                ("deadline", "明年"),
                ("command_id", "e1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    // The 签报 form's label, not the 收文 form's 办结时限 of the same field name.
    assert_eq!(
        error_message(&a.body),
        "督办时限（列入督办时必填）：明年 不是日期（YYYY-MM-DD）"
    );
}

/// 已办, 我发起的 and 已归档 hold each person's own, newest first; the menu counts the 待办; and
/// what arrived since the person last looked at it is marked 新, once.
#[tokio::test]
async fn a_person_finds_what_they_did_started_and_what_is_new_in_their_todo() {
    let c = Console::new().await;
    let archived = c
        .sample_document(workflow_testkit::steps::ARCHIVED, None)
        .await;
    let drafted = c
        .sample_document(workflow_testkit::steps::DRAFTED, None)
        .await;
    let flow = workflow_testkit::full_flow();
    let (drafter, reviewer) = (flow[0].0.as_str(), flow[2].0.as_str());
    assert_ne!(drafter, reviewer);
    let link = |id: DocumentId| format!("href=\"/doc/{id}\"");
    let d = c.signed_in(drafter).await;
    let mine = page(&c, &d, "/mine").await;
    assert!(mine.contains("<h1>我发起的"), "{mine}");
    // Newest first: the draft before the archived one.
    let (at_draft, at_archived) = (
        mine.find(&link(drafted))
            .expect("the draft is the drafter's"),
        mine.find(&link(archived)).expect("so is the archived one"),
    );
    assert!(at_draft < at_archived, "newest first: {mine}");
    let gone = page(&c, &d, "/archived").await;
    assert!(
        gone.contains(&link(archived)) && !gone.contains(&link(drafted)),
        "{gone}"
    );
    // The reviewer acted on the archived one only, and started nothing.
    let r = c.signed_in(reviewer).await;
    let done = page(&c, &r, "/done").await;
    assert!(
        done.contains(&link(archived)) && !done.contains(&link(drafted)),
        "{done}"
    );
    let theirs = page(&c, &r, "/mine").await;
    assert!(
        theirs.contains("您还没有起草、登记或立项过文件。"),
        "{theirs}"
    );

    // The reviewer's 待办: empty, no count on the menu; the first look marks nothing.
    let first = c.get(&r, "/todo").await;
    assert!(!first.body.contains("id=\"todo-count\""), "{}", first.body);
    let seen = common::cookie(&first, "wf_todo_seen").expect("the 待办 remembers the look");
    let hex = hex::encode;
    assert!(seen.starts_with(&format!("{}.", hex(reviewer))), "{seen}");
    let waiting = c
        .sample_document(workflow_testkit::steps::IN_REVIEW, None)
        .await;
    let looked = Browser {
        cookies: format!("{}; wf_todo_seen={seen}", r.cookies),
        ..r.clone()
    };
    let second = c.get(&looked, "/todo").await;
    assert!(
        second
            .body
            .contains("id=\"todo-count\" aria-label=\"1 件待办\">1</span>"),
        "the menu counts the 待办: {}",
        second.body
    );
    assert!(second.body.contains("新到 1 件"), "{}", second.body);
    let row = second
        .body
        .split("<tr")
        .find(|r| r.contains(&link(waiting)))
        .expect("the new one is in the 待办");
    assert!(row.contains("badge new"), "{row}");
    // Looked at once, it is no longer new; another person's look on the browser counts
    // for nothing.
    let again = common::cookie(&second, "wf_todo_seen").unwrap();
    let third = c
        .get(
            &Browser {
                cookies: format!("{}; wf_todo_seen={again}", r.cookies),
                ..r.clone()
            },
            "/todo",
        )
        .await;
    assert!(!third.body.contains("badge new"), "{}", third.body);
    let someone_else = c
        .get(
            &Browser {
                cookies: format!(
                    "{}; wf_todo_seen={}",
                    r.cookies,
                    seen.replace(&hex(reviewer), &hex(drafter))
                ),
                ..r.clone()
            },
            "/todo",
        )
        .await;
    assert!(
        !someone_else.body.contains("badge new"),
        "{}",
        someone_else.body
    );
}

/// 批量办理 from the 待办: the ticked 阅知 and 签收 are each taken against the version the
/// row showed; one someone changed since is refused in words and the others are done; the
/// form sent again does nothing twice.
#[tokio::test]
async fn ticked_readings_and_receipts_are_taken_in_one_go_each_on_its_own() {
    use workflow_core::incoming::{IncomingAction, Plan};
    let c = Console::new().await;
    let s = incoming_sample();
    let reader = s.readers[0].clone();
    let mut circulated = Vec::new();
    for _ in 0..3 {
        // A 收文 only to be read (no reply expected), registered and screened.
        let id = workflow_testkit::engine::new_id();
        for (actor, mut action) in instruct_flow(&s, "X001").into_iter().take(2) {
            if let IncomingAction::Register { registration, .. } = &mut action {
                registration.reply_required = false;
            }
            let req = workflow_store::Request::new(id, actor.as_str(), action);
            c.engine.execute(req).await.unwrap();
        }
        let mut req = workflow_store::Request::new(
            id,
            s.director.as_str(),
            IncomingAction::Propose {
                plan: Plan::circulate(s.readers.clone()),
                opinion: "请传阅。".into(),
            },
        );
        req.expected_version = Some(2);
        c.engine.execute(req).await.unwrap();
        circulated.push(id);
    }
    let b = c.signed_in(reader.as_str()).await;
    let todo = page(&c, &b, "/todo").await;
    assert!(todo.contains("action=\"/todo/batch\""), "{todo}");
    assert!(todo.contains("3 件只需阅知"), "{todo}");
    for id in &circulated {
        assert!(
            todo.contains(&format!("value=\"{id}:3:MarkRead\"")),
            "{todo}"
        );
    }
    let command_id = {
        let form = &todo[todo.find("id=\"batch\"").expect("the batch form")..];
        let at = form.find("name=\"command_id\" value=\"").unwrap() + 26;
        form[at..at + form[at..].find('"').unwrap()].to_owned()
    };
    // The third is passed round to one more reader before the batch is sent: its row's
    // version is stale.
    let mut more = workflow_store::Request::new(
        circulated[2],
        s.director.as_str(),
        IncomingAction::AddReaders {
            readers: vec!["wang.fang".into()],
            act_by: None,
        },
    );
    more.expected_version = Some(3);
    c.engine.execute(more).await.unwrap();
    let picks: Vec<String> = circulated
        .iter()
        .map(|id| format!("{id}:3:MarkRead"))
        .collect();
    let mut form = vec![
        ("csrf", b.csrf.as_str()),
        ("command_id", command_id.as_str()),
    ];
    form.extend(picks.iter().map(|p| ("pick", p.as_str())));
    let answer = c.post(&b, "/todo/batch", &form).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer.body.contains("已办理 2 件。1 件未能办理"),
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("该文件已被他人处理"),
        "{}",
        answer.body
    );
    let read_by = |id: DocumentId| {
        c.engine
            .state(id)
            .unwrap()
            .unwrap()
            .incoming()
            .unwrap()
            .readers()
            .get(&reader)
            .is_some_and(Option::is_some)
    };
    assert!(read_by(circulated[0]) && read_by(circulated[1]));
    assert!(!read_by(circulated[2]), "refused, so nothing recorded");
    // Sent again (a double click): nothing twice — the two done are answered again from
    // their command ids (not refused as stale, which they now are), the third refused again.
    let head = c.engine.head();
    let again = c.post(&b, "/todo/batch", &form).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        again.body.contains("已办理 2 件。1 件未能办理"),
        "{}",
        again.body
    );
    assert_eq!(c.engine.head(), head, "the same commands, answered again");
    // A row ticked twice in one form is taken once and counted once.
    let dup = c.engine.state(circulated[2]).unwrap().unwrap().version();
    let twice = format!("{}:{dup}:MarkRead", circulated[2]);
    let answer = c
        .post(
            &b,
            "/todo/batch",
            &[
                ("csrf", b.csrf.as_str()),
                ("command_id", "twice"),
                ("pick", twice.as_str()),
                ("pick", twice.as_str()),
            ],
        )
        .await;
    assert!(answer.body.contains("已办理 1 件。"), "{}", answer.body);
    assert!(read_by(circulated[2]));
    // Nothing ticked: said so.
    let none = c
        .post(
            &b,
            "/todo/batch",
            &[("csrf", b.csrf.as_str()), ("command_id", "x")],
        )
        .await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    assert!(
        error_message(&none.body).contains("请先勾选"),
        "{}",
        none.body
    );

    // 签收 of a 发文 by the 主送 unit's clerk, ticked in the same way.
    let issued = c
        .sample_document(workflow_testkit::steps::ISSUED, None)
        .await;
    let clerk = workflow_testkit::full_flow()[workflow_testkit::steps::ISSUED]
        .0
        .clone();
    let cb = c.signed_in(clerk.as_str()).await;
    let todo = page(&c, &cb, "/todo").await;
    let version = c.engine.state(issued).unwrap().unwrap().version();
    let pick = format!("{issued}:{version}:Acknowledge");
    assert!(todo.contains(&format!("value=\"{pick}\"")), "{todo}");
    let answer = c
        .post(
            &cb,
            "/todo/batch",
            &[
                ("csrf", cb.csrf.as_str()),
                ("command_id", "ack"),
                ("pick", pick.as_str()),
            ],
        )
        .await;
    assert!(answer.body.contains("已办理 1 件。"), "{}", answer.body);
    assert_eq!(
        c.engine.state(issued).unwrap().unwrap().version(),
        version + 1
    );
}

/// A tab left open as one person while another signs in on the browser: its form is not
/// taken under the new name — refused as a conflict that says so — and nothing changes.
#[tokio::test]
async fn a_form_opened_as_someone_else_is_refused_not_taken_under_the_new_name() {
    let c = Console::new().await;
    let id = c
        .sample_document(workflow_testkit::steps::IN_REVIEW, None)
        .await;
    let li = c.signed_in("li.qiang").await;
    let card = page(&c, &li, &format!("/doc/{id}")).await;
    let token = common::form_value(&card, "Approve", "csrf").expect("the approve form");
    assert_eq!(
        token,
        format!("{}.li.qiang", li.csrf),
        "the form says whom it is for"
    );
    let form = |token: &str| {
        vec![
            ("csrf".to_owned(), token.to_owned()),
            ("action".to_owned(), "Approve".to_owned()),
            ("version".to_owned(), "2".to_owned()),
            ("opinion".to_owned(), "同意".to_owned()),
            ("command_id".to_owned(), "tab-1".to_owned()),
        ]
    };
    // Another tab signs in as 王芳 (the browser's one cookie changes).
    let wang = Browser {
        cookies: li
            .cookies
            .replace("wf_actor=li.qiang", "wf_actor=wang.fang"),
        ..li.clone()
    };
    let fields = form(&token);
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let refused = c.post(&wang, &format!("/doc/{id}"), &fields).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("登录的人已经换了"),
        "{}",
        refused.body
    );
    assert!(
        error_message(&refused.body).contains("另一个标签页"),
        "{}",
        refused.body
    );
    assert_eq!(
        c.engine.state(id).unwrap().unwrap().version(),
        2,
        "nothing done"
    );
    // The same form in its own person's browser is taken.
    let done = c.post(&li, &format!("/doc/{id}"), &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    // Signing out works from any tab.
    let out = c.post(&wang, "/signout", &[("csrf", token.as_str())]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
}

/// The operator page's verify panel: a malformed witness head is said so in the panel (it
/// is swapped in place), what was typed kept; a finished run is shown to the next
/// operator as someone's run at a time, not as theirs.
#[tokio::test]
async fn the_verify_panel_says_whose_run_it_shows_and_what_was_wrong_with_a_head() {
    let c = Console::new().await;
    c.sample_document(workflow_testkit::steps::IN_REVIEW, None)
        .await;
    let xu = c.signed_in("xu.jing").await;
    let bad = c
        .post(
            &xu,
            "/ops/verify",
            &[("csrf", xu.csrf.as_str()), ("against", "12:nothex")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::OK, "swapped in place: {}", bad.body);
    assert!(bad.body.contains("id=\"verify-refused\""), "{}", bad.body);
    assert!(
        bad.body.contains("见证头“12:nothex”格式不对"),
        "{}",
        bad.body
    );
    assert!(
        bad.body.contains("value=\"12:nothex\""),
        "what was typed is kept"
    );
    let started = c
        .post(
            &xu,
            "/ops/verify",
            &[("csrf", xu.csrf.as_str()), ("against", "")],
        )
        .await;
    assert_eq!(started.status, StatusCode::OK);
    // The run is on a worker: read the panel until it has finished (bounded).
    let mut panel = String::new();
    for _ in 0..600 {
        panel = page(&c, &xu, "/ops/verify").await;
        if panel.contains("id=\"verify-result\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(panel.contains("日志完整"), "{panel}");
    let qian = c.signed_in("qian.hui").await;
    let ops = page(&c, &qian, "/ops").await;
    assert!(ops.contains("上次校验：徐静（xu.jing） 于 2026年"), "{ops}");
}

/// The label check itself: it finds a control nobody named, and passes the three ways of
/// naming one.
#[test]
fn the_label_check_finds_a_control_nobody_named() {
    let page = r#"<form><input type="hidden" name="csrf" value="x">
        <label>意见<textarea name="opinion"></textarea></label>
        <input type="checkbox" name="pick" aria-label="勾选">
        <label for="m">月份</label><input type="month" id="m" name="month">
        <select name="unit"><option>教务处</option></select>
        <input type="text" name="q"><button type="submit">查询</button></form>"#;
    let found = unlabelled_on("/x", page);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].contains("<select name=\"unit\">"));
    assert!(found[1].contains("name=\"q\""));
}

/// A classified, urgent 发文's card marks 密级★保密期限 and 紧急程度 at its top left, as the
/// paper form does (and the printed form with it); an ordinary one marks nothing.
#[tokio::test]
async fn the_card_marks_classification_with_its_period_and_urgency_as_the_paper_form() {
    let c = Console::new().await;
    let mut fields = workflow_testkit::fields();
    fields.classification = workflow_core::directory::Classification::Secret;
    fields.classification_period_years = Some(10);
    fields.urgency = workflow_core::kind::Urgency::ExtraUrgent;
    let secret = c
        .sample_document(workflow_testkit::steps::DRAFTED, Some(fields))
        .await;
    let plain = c
        .sample_document(workflow_testkit::steps::DRAFTED, None)
        .await;
    let drafter = workflow_testkit::full_flow()[0].0.clone();
    let b = c.signed_in(drafter.as_str()).await;
    let card = page(&c, &b, &format!("/doc/{secret}")).await;
    assert!(
        card.contains("<p class=\"marks\" id=\"marks\">秘密★10年　特急</p>"),
        "{card}"
    );
    assert!(
        card.contains("<tr><th>密级</th><td>秘密★10年</td></tr>"),
        "{card}"
    );
    let card = page(&c, &b, &format!("/doc/{plain}")).await;
    assert!(!card.contains("id=\"marks\">秘密"), "{card}");
}

/// A 秘密 收文 批办 to a unit where nobody is cleared for it: refused in words naming the
/// field by its label and the unit by its name; the 批办 form stays offered (another unit
/// will do), and nothing is recorded.
#[tokio::test]
async fn a_classified_receipt_is_not_sent_to_a_unit_nobody_there_may_open() {
    use workflow_core::incoming::IncomingAction;
    let c = Console::new().await;
    let s = incoming_sample();
    let id = DocumentId(uuid::Uuid::new_v4());
    for (actor, mut action) in instruct_flow(&s, "X001").into_iter().take(3) {
        if let IncomingAction::Register { registration, .. } = &mut action {
            registration.classification = workflow_core::directory::Classification::Secret;
            registration.classification_period_years = Some(10);
        }
        let req = workflow_store::Request::new(id, actor.as_str(), action);
        c.engine.execute(req).await.unwrap();
    }
    let leader = c.signed_in(s.leader.as_str()).await;
    let card = page(&c, &leader, &format!("/doc/{id}")).await;
    assert!(card.contains("data-action=\"InstructIncoming\""), "{card}");
    let a = c
        .act(
            &leader,
            id,
            &[
                ("action", "InstructIncoming"),
                ("version", "3"),
                ("lead_unit", "DW"),
                ("deadline", "2026-11-30"),
                ("opinion", "请党办阅办。"),
                ("command_id", "dw-1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let said = error_message(&a.body);
    assert!(
        said.contains("“主办单位”所选的“党委办公室”没有可阅秘密文件的在岗承办人"),
        "{said}"
    );
    assert!(
        a.body.contains("data-action=\"InstructIncoming\""),
        "offered still"
    );
    assert_eq!(
        c.engine.state(id).unwrap().unwrap().version(),
        3,
        "nothing recorded"
    );
}

/// 会批 and 批示件传阅 from the cards: the director names a leader to comment first, that
/// leader is offered 会批 (and the deciding leader nothing yet), then the deciding leader's
/// 批示 and its 传阅 to another leader, who is offered 阅知.
#[tokio::test]
async fn a_joint_instruction_and_its_circulation_are_taken_from_the_cards() {
    let c = Console::new().await;
    let id = incoming_at_proposal(&c).await;
    let director = c.signed_in("ding.xin").await;
    let page = c.get(&director, &format!("/doc/{id}")).await;
    for label in ["会批领导", "依次会批", "阅办时限"] {
        assert!(page.body.contains(label), "{label}: {}", page.body);
    }
    let a = c
        .act(
            &director,
            id,
            &[
                ("action", "ProposeHandling"),
                ("version", "2"),
                ("leader", "lin.zhiyuan"),
                ("co_leaders", "song.hua"),
                ("in_turn", "on"),
                ("opinion", "拟请宋校长阅示后呈林校长批示。"),
                ("command_id", "p1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let offers = |body: &str, action: &str| body.contains(&format!("data-action=\"{action}\""));
    let lin = c.signed_in("lin.zhiyuan").await;
    let song = c.signed_in("song.hua").await;
    let page = c.get(&lin, &format!("/doc/{id}")).await;
    assert!(!offers(&page.body, "InstructIncoming"), "{}", page.body);
    let page = c.get(&song, &format!("/doc/{id}")).await;
    assert!(offers(&page.body, "CommentInstruction"), "{}", page.body);
    let a = c
        .act(
            &song,
            id,
            &[
                ("action", "CommentInstruction"),
                ("version", "3"),
                ("opinion", "同意，请林校长批示。"),
                ("command_id", "m1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let page = c.get(&lin, &format!("/doc/{id}")).await;
    assert!(offers(&page.body, "InstructIncoming"), "{}", page.body);
    assert!(
        page.body.contains("同意，请林校长批示。"),
        "the 会批 opinion is on the card"
    );
    let deadline = (workflow_testkit::clock::today() + chrono::Duration::days(20)).to_string();
    let a = c
        .act(
            &lin,
            id,
            &[
                ("action", "InstructIncoming"),
                ("version", "4"),
                ("lead_unit", "JWC"),
                ("deadline", deadline.as_str()),
                ("opinion", "请教务处办理，并请张校长阅。"),
                ("command_id", "i1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let r = c.engine.state(id).unwrap().unwrap();
    assert_eq!(r.particulars().state, "InHandling", "{}", a.body);
    let page = c.get(&lin, &format!("/doc/{id}")).await;
    assert!(offers(&page.body, "AddReaders"), "{}", page.body);
    let a = c
        .act(
            &lin,
            id,
            &[
                ("action", "AddReaders"),
                ("version", "5"),
                ("readers", "zhang.guoqing"),
                ("command_id", "r1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let zhang = c.signed_in("zhang.guoqing").await;
    let page = c.get(&zhang, &format!("/doc/{id}")).await;
    assert!(offers(&page.body, "MarkRead"), "{}", page.body);
    assert!(
        page.body.contains("未阅"),
        "the card lists the readers: {}",
        page.body
    );
    // The lead unit handles it meanwhile.
    let r = c.engine.state(id).unwrap().unwrap();
    assert_eq!(r.particulars().state, "InHandling");
}

/// A 督办 item's 协办 unit is offered its 协办情况 on the card, once; the supervisor is
/// offered 销号 only after it.
#[tokio::test]
async fn a_cooperating_unit_gives_its_input_from_the_items_card() {
    use workflow_testkit::supervision::item_flow;
    let c = Console::new().await;
    let id = workflow_testkit::engine::new_id();
    let deadline = workflow_testkit::clock::today() + chrono::Duration::days(20);
    let flow = item_flow(deadline, "X001");
    // Opened, signed for, progress, extension asked and granted; completion reported
    // before 人事处 said anything.
    for (actor, action) in flow[..5].iter().chain(&flow[6..7]).cloned() {
        let req = workflow_store::Request::new(id, actor, action);
        c.engine.execute(req).await.unwrap();
    }
    let offers = |body: &str, action: &str| body.contains(&format!("data-action=\"{action}\""));
    let supervisor = c.signed_in("ding.xin").await;
    let page = c.get(&supervisor, &format!("/doc/{id}")).await;
    assert!(!offers(&page.body, "CloseItem"), "{}", page.body);
    assert!(page.body.contains("尚未反馈"), "{}", page.body);
    let guo = c.signed_in("guo.tao").await;
    let page = c.get(&guo, &format!("/doc/{id}")).await;
    assert!(offers(&page.body, "GiveItemInput"), "{}", page.body);
    let version = c.engine.state(id).unwrap().unwrap().version().to_string();
    let a = c
        .act(
            &guo,
            id,
            &[
                ("action", "GiveItemInput"),
                ("version", version.as_str()),
                ("text", "已核定师资数据。"),
                ("command_id", "g1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let page = c.get(&guo, &format!("/doc/{id}")).await;
    assert!(!offers(&page.body, "GiveItemInput"), "once: {}", page.body);
    let page = c.get(&supervisor, &format!("/doc/{id}")).await;
    assert!(offers(&page.body, "CloseItem"), "{}", page.body);
    assert!(page.body.contains("已核定师资数据。"), "{}", page.body);
}

/// 收文登记 from the console: the registrar's menu offers it, the form takes the 登记簿's
/// fields and the 来文's files, registers once however often it is sent, and a refusal
/// shows the form again as typed, naming the field.
#[tokio::test]
async fn a_registrar_registers_a_receipt_with_its_files_from_the_console() {
    use workflow_core::incoming::{Channel, Step};
    let c = Console::new().await;
    let he = c.signed_in("he.ping").await;
    let page = c.get(&he, "/register").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("id=\"register-link\""),
        "the menu offers it"
    );
    // The general office's registrar registers for any unit.
    assert!(
        page.body.contains("<option value=\"JWC\">教务处</option>"),
        "{}",
        page.body
    );
    // Not a registrar: not offered, and refused.
    let wang = c.signed_in("wang.fang").await;
    assert!(!c.get(&wang, "/todo").await.body.contains("register-link"));
    assert_eq!(
        c.get(&wang, "/register").await.status,
        StatusCode::FORBIDDEN
    );

    let today = workflow_testkit::clock::today();
    let deadline = (today + chrono::Duration::days(10)).to_string();
    let received = today.to_string();
    let form = |received_on: &str, command_id: &str, classification: &str| {
        vec![
            ("csrf", he.csrf.clone()),
            ("command_id", command_id.to_owned()),
            ("unit", "XB".to_owned()),
            ("from", "省教育厅".to_owned()),
            ("from_number", "X教高函〔2026〕51号".to_owned()),
            ("title", "关于报送2027年招生计划的通知".to_owned()),
            ("kind", "Circular".to_owned()),
            ("classification", classification.to_owned()),
            (
                "classification_period_years",
                if classification == "None" { "" } else { "10" }.to_owned(),
            ),
            ("urgency", "Urgent".to_owned()),
            ("received_on", received_on.to_owned()),
            ("deadline", deadline.clone()),
            ("pages", "4".to_owned()),
            ("channel", "Paper".to_owned()),
            ("copies", "2".to_owned()),
            ("reply_required", "on".to_owned()),
            ("important", "on".to_owned()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        common::multipart(
            &fields,
            &[
                (
                    "main",
                    workflow_testkit::SAMPLE_FILE_NAME,
                    workflow_testkit::SAMPLE_FILE,
                ),
                ("attachment", "", b""),
            ],
        )
    };
    // A 收文日期 still to come: refused, the form again as typed, the field named.
    let tomorrow = (today + chrono::Duration::days(1)).to_string();
    let a = c
        .post_multipart(&he, "/register", send(form(&tomorrow, "reg-1", "None")))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(
        common::error_message(&a.body).contains("收文日期"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("value=\"关于报送2027年招生计划的通知\""),
        "{}",
        a.body
    );
    assert!(a.body.contains("已选的文件需要重新选择"), "{}", a.body);
    // A 秘密 paper copy without its 份号: refused naming 份号.
    let a = c
        .post_multipart(&he, "/register", send(form(&received, "reg-2", "Secret")))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(
        common::error_message(&a.body).contains("份号"),
        "{}",
        a.body
    );
    // Registered, and taken to its card.
    let a = c
        .post_multipart(&he, "/register", send(form(&received, "reg-3", "None")))
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let to = a.headers["location"].to_str().unwrap().to_owned();
    assert!(to.ends_with("?done=RegisterIncoming"), "{to}");
    let id = workflow_core::DocumentId(to["/doc/".len()..to.find('?').unwrap()].parse().unwrap());
    let s = c.engine.state(id).unwrap().unwrap();
    let r = s.incoming().unwrap();
    assert_eq!(r.step(), Step::Registered);
    let reg = r.registration();
    assert_eq!(reg.title, "关于报送2027年招生计划的通知");
    assert_eq!(reg.channel, Some(Channel::Paper));
    assert_eq!((reg.copies, reg.pages), (2, 4));
    assert!(reg.reply_required && reg.important && !reg.slip_required);
    assert_eq!(
        reg.files.main.as_ref().map(|f| f.name.as_str()),
        Some(workflow_testkit::SAMPLE_FILE_NAME)
    );
    assert!(
        reg.files.attachments.is_empty(),
        "an empty file input names nothing"
    );
    let card = c.get(&he, &to).await;
    assert!(card.body.contains("已办理：收文登记"), "{}", card.body);
    assert!(
        card.body.contains(workflow_testkit::SAMPLE_FILE_NAME),
        "{}",
        card.body
    );
    // The same form sent again registers nothing more.
    let again = c
        .post_multipart(&he, "/register", send(form(&received, "reg-3", "None")))
        .await;
    assert_eq!(again.headers["location"], to.as_str());
    assert_eq!(c.engine.state(id).unwrap().unwrap().version(), 1);
}

/// A registration from elsewhere (a wrong token, or none before the file) keeps no file.
#[tokio::test]
async fn a_registration_without_this_browsers_token_keeps_nothing() {
    let c = Console::new().await;
    let he = c.signed_in("he.ping").await;
    for token in ["forged", ""] {
        let body = common::multipart(
            &[("csrf", token), ("command_id", "x1"), ("title", "伪造")],
            &[(
                "main",
                workflow_testkit::SAMPLE_FILE_NAME,
                workflow_testkit::SAMPLE_FILE,
            )],
        );
        let a = c.post_multipart(&he, "/register", body).await;
        assert!(a.status.is_client_error(), "{}: {}", a.status, a.body);
    }
    assert!(
        c.engine
            .unreferenced_files(std::time::Duration::ZERO)
            .unwrap()
            .is_empty(),
        "nothing kept"
    );
}

/// A 阅办 reader's 待办 row is due on their own day; a 拟办 with both a leader and readers
/// is refused in words rather than half taken.
#[tokio::test]
async fn a_reader_who_must_act_sees_their_day_and_a_double_proposal_is_refused() {
    use workflow_core::incoming::IncomingAction;
    let c = Console::new().await;
    let id = incoming_at_proposal(&c).await;
    let director = c.signed_in("ding.xin").await;
    let a = c
        .act(
            &director,
            id,
            &[
                ("action", "ProposeHandling"),
                ("version", "2"),
                ("leader", "lin.zhiyuan"),
                ("readers", "song.hua"),
                ("opinion", "拟办"),
                ("command_id", "p1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(error_message(&a.body).contains("二选一"), "{}", a.body);
    assert_eq!(
        c.engine.state(id).unwrap().unwrap().version(),
        2,
        "nothing taken"
    );
    propose_to_the_leader(&c, &director, id).await;
    let by = workflow_testkit::clock::today() + chrono::Duration::days(3);
    let mut req = workflow_store::Request::new(
        id,
        "ding.xin",
        IncomingAction::AddReaders {
            readers: vec!["guo.tao".into()],
            act_by: Some(by),
        },
    );
    req.expected_version = Some(3);
    c.engine.execute(req).await.unwrap();
    let guo = c.signed_in("guo.tao").await;
    let todo = c.get(&guo, "/todo").await.body;
    let day = by.format("%Y年%-m月%-d日").to_string();
    assert!(todo.contains(&day), "their day {day} on their 待办: {todo}");
    // Not ticked in a batch: a 阅办 reader says what they did.
    assert!(
        !todo.contains(&format!("value=\"{id}:4:MarkRead\"")),
        "{todo}"
    );
}
