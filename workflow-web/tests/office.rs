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
async fn no_page_a_member_of_staff_sees_shows_a_code_or_an_english_word() {
    let c = Console::new().await;
    let s = incoming_sample();
    let outgoing = c.sample_document(4, None).await;
    let issued = c.sample_document(7, None).await;
    let memo = c.sample_memo(5).await;
    let incoming = incoming_at_proposal(&c).await;
    let mut found = Vec::new();
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
    ] {
        let b = c.signed_in(who).await;
        for path in [
            "/todo".to_owned(),
            "/search".to_owned(),
            "/search?q=%E9%80%9A%E7%9F%A5".to_owned(),
            "/bulletin".to_owned(),
        ] {
            found.extend(latin_on(&path, &page(&c, &b, &path).await));
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
                let timeline = format!("{card}/timeline");
                found.extend(latin_on(&timeline, &page(&c, &b, &timeline).await));
            }
        }
    }
    assert_eq!(cards_read.len(), 4, "every flow's card was read by someone");
    found.sort();
    found.dedup();
    assert!(found.is_empty(), "Latin words on pages: {found:#?}");
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
