//! The console over HTTP, in-process: who may see and do what (the engine's rules, as over
//! gRPC), escaping, CSRF, the security headers, header sign-in from trusted proxies only.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Console, LOOPBACK, error_detail, error_message, form_value};
use workflow_core::{directory::Classification, outgoing::State};
use workflow_web::{AuthMode, WebConfig};

#[tokio::test]
async fn the_todo_lists_what_waits_for_the_person() {
    let c = Console::new().await;
    let id = c.sample_document(2, None).await; // drafted and submitted: li.qiang reviews
    let li = c.signed_in("li.qiang").await;
    let page = c.get(&li, "/todo").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("/doc/{id}")), "{}", page.body);
    let wang = c.signed_in("wang.fang").await;
    let page = c.get(&wang, "/todo").await;
    assert!(!page.body.contains(&format!("/doc/{id}")), "{}", page.body);
}

#[tokio::test]
async fn a_person_is_offered_only_the_actions_that_are_theirs() {
    let c = Console::new().await;
    let id = c.sample_document(2, None).await;
    let li = c
        .get(&c.signed_in("li.qiang").await, &format!("/doc/{id}"))
        .await;
    assert!(li.body.contains("data-action=\"Approve\""), "{}", li.body);
    assert!(li.body.contains("data-action=\"Return\""));
    assert!(!li.body.contains("data-action=\"SignOff\""));
    let wang = c
        .get(&c.signed_in("wang.fang").await, &format!("/doc/{id}"))
        .await;
    assert!(
        !wang.body.contains("data-action=\"Approve\""),
        "{}",
        wang.body
    );
    // The drafter may withdraw while no reviewer has acted.
    assert!(
        wang.body.contains("data-action=\"Withdraw\""),
        "{}",
        wang.body
    );
}

#[tokio::test]
async fn the_step_forward_comes_first_and_a_step_back_asks_to_be_confirmed() {
    let c = Console::new().await;
    let id = c.sample_document(2, None).await;
    let li = c.signed_in("li.qiang").await;
    let page = c.get(&li, &format!("/doc/{id}")).await;
    let at = |needle: &str| page.body.find(needle).unwrap_or_else(|| panic!("{needle}"));
    // 审核通过 first and open; 退回 after it, folded, in red, asking to be confirmed.
    assert!(at("data-action=\"Approve\"") < at("data-action=\"Return\""));
    assert!(
        page.body.contains(
            "<details class=\"action\" id=\"act-Approve\" open>\n    <summary>审核通过</summary>"
        ),
        "{}",
        page.body
    );
    assert!(page.body.contains(
        "<details class=\"action back\" id=\"act-Return\">\n    <summary>退回</summary>"
    ));
    assert!(
        page.body
            .contains("name=\"confirm\" value=\"yes\" required> 确认退回")
    );
    // Sent without the tick (a hand-built POST): refused, nothing changes, and what was
    // typed is on the form again, open.
    let a = c
        .act(
            &li,
            id,
            &[
                ("action", "Return"),
                ("version", "2"),
                ("reason", "请补充数据来源。"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert_eq!(error_message(&a.body), "请勾选“确认退回”后再提交");
    assert_eq!(c.engine.document(id).unwrap().unwrap().version(), 2);
    assert!(
        a.body.contains(
            "<details class=\"action back\" id=\"act-Return\" open>\n    <summary>退回</summary>"
        ),
        "{}",
        a.body
    );
    assert!(
        a.body
            .contains("rows=\"3\" required>请补充数据来源。</textarea>"),
        "{}",
        a.body
    );
    assert!(
        !a.body
            .contains("<details class=\"action\" id=\"act-Approve\" open>"),
        "only the refused form is open"
    );
    // Ticked: returned.
    let a = c
        .act(
            &li,
            id,
            &[
                ("action", "Return"),
                ("version", "2"),
                ("reason", "请补充数据来源。"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(
        c.engine.document(id).unwrap().unwrap().state(),
        State::Drafting
    );
}

#[tokio::test]
async fn approving_with_an_opinion_changes_the_document_once() {
    let c = Console::new().await;
    let id = c.sample_document(2, None).await;
    let li = c.signed_in("li.qiang").await;
    let page = c.get(&li, &format!("/doc/{id}")).await;
    let command_id = form_value(&page.body, "Approve", "command_id").unwrap();
    let form = [
        ("csrf", li.csrf.as_str()),
        ("action", "Approve"),
        ("version", "2"),
        ("stage", "0"),
        ("command_id", command_id.as_str()),
        ("opinion", "同意，请会签。"),
    ];
    let a = c.post(&li, &format!("/doc/{id}"), &form).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let doc = c.engine.document(id).unwrap().unwrap();
    assert_eq!(doc.version(), 3);
    assert_eq!(doc.state(), State::Countersigning);
    assert!(doc.opinions().iter().any(|o| o.text == "同意，请会签。"));
    // The same form sent again (a double click, a reload) is done once.
    let again = c.post(&li, &format!("/doc/{id}"), &form).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(c.engine.document(id).unwrap().unwrap().version(), 3);
    let shown = c.get(&li, &format!("/doc/{id}?done=Approve")).await;
    assert!(shown.body.contains("已办理：审核通过"), "{}", shown.body);
    assert!(shown.body.contains("同意，请会签。"));
    let timeline = c.get(&li, &format!("/doc/{id}/timeline")).await;
    assert!(
        timeline.body.contains("同意，请会签。"),
        "{}",
        timeline.body
    );
}

#[tokio::test]
async fn an_action_against_a_stale_version_is_a_conflict_and_changes_nothing() {
    let c = Console::new().await;
    let id = c.sample_document(2, None).await;
    let li = c.signed_in("li.qiang").await;
    let a = c
        .act(
            &li,
            id,
            &[("action", "Approve"), ("version", "1"), ("opinion", "同意")],
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    // Said in plain Chinese; the engine's words (for support) folded beside it.
    assert_eq!(
        error_message(&a.body),
        "该文件已被他人处理，请刷新后查看，再决定是否办理。"
    );
    assert!(
        error_detail(&a.body).starts_with("VERSION_CONFLICT: ")
            && error_detail(&a.body).contains("expected version 1, actual 2"),
        "{}",
        a.body
    );
    // Not one click from approving what someone else changed: the form is not refilled.
    assert!(!a.body.contains(">同意</textarea>"), "{}", a.body);
    assert_eq!(c.engine.document(id).unwrap().unwrap().version(), 2);
}

#[tokio::test]
async fn a_refused_action_names_what_was_wrong_and_changes_nothing() {
    let c = Console::new().await;
    let id = c.sample_document(2, None).await;
    let wang = c.signed_in("wang.fang").await;
    // wang.fang may not approve li.qiang's stage (the form was not offered; sent anyway).
    let a = c
        .act(
            &wang,
            id,
            &[("action", "Approve"), ("version", "2"), ("opinion", "同意")],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert_eq!(error_message(&a.body), "此环节不由您办理。", "{}", a.body);
    assert!(error_detail(&a.body).contains("wang.fang"), "{}", a.body);
    // A required field left empty.
    let li = c.signed_in("li.qiang").await;
    let a = c
        .act(
            &li,
            id,
            &[
                ("action", "Return"),
                ("version", "2"),
                ("reason", ""),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert_eq!(error_message(&a.body), "理由：必填", "{}", a.body);
    assert_eq!(c.engine.document(id).unwrap().unwrap().version(), 2);
}

#[tokio::test]
async fn every_value_is_escaped() {
    let c = Console::new().await;
    let mut fields = workflow_testkit::fields();
    fields.title = "<script>alert('x')</script>关于\"测试\"的通知".into();
    let id = c.sample_document(2, Some(fields)).await;
    let li = c.signed_in("li.qiang").await;
    for path in [
        format!("/doc/{id}"),
        "/todo".into(),
        format!("/doc/{id}/timeline"),
    ] {
        let page = c.get(&li, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            !page.body.contains("<script>alert"),
            "{path}: {}",
            page.body
        );
        assert!(
            page.body
                .contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;关于&#34;测试&#34;"),
            "{path}: {}",
            page.body
        );
    }
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let c = Console::new().await;
    let id = c.sample_document(2, None).await;
    let li = c.signed_in("li.qiang").await;
    for token in [
        "",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let a = c
            .post(
                &li,
                &format!("/doc/{id}"),
                &[("csrf", token), ("action", "Approve"), ("version", "2")],
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
        assert!(a.body.contains("CSRF"), "{}", a.body);
    }
    // Another site's page cannot post, even with a token it somehow has.
    let req = Request::post(format!("/doc/{id}"))
        .header(header::COOKIE, &li.cookies)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::ORIGIN, "http://evil.example")
        .body(Body::from(format!(
            "csrf={}&action=Approve&version=2",
            li.csrf
        )))
        .unwrap();
    let a = c.send(req, LOOPBACK).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert_eq!(c.engine.document(id).unwrap().unwrap().version(), 2);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let c = Console::new().await;
    let li = c.signed_in("li.qiang").await;
    for path in ["/signin", "/todo", "/search", "/bulletin", "/doc/not-an-id"] {
        let a = c.get(&li, path).await;
        let csp = a
            .headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(
            a.headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff"
        );
        // No secret in the page: the CSRF token is the browser's own, nothing else.
        assert!(!a.body.contains("token_sha256"));
    }
    let bad = c.get(&li, "/doc/not-an-id").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("not-an-id"));
}

#[tokio::test]
async fn nobody_signed_in_is_sent_to_sign_in() {
    let c = Console::new().await;
    let b = c.browser().await;
    let a = c.get(&b, "/todo").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.headers.get(header::LOCATION).unwrap(), "/signin");
    let page = c.get(&b, "/signin").await;
    assert!(page.body.contains("value=\"li.qiang\""), "{}", page.body);
}

#[tokio::test]
async fn clearance_applies_and_classified_reads_are_recorded() {
    let c = Console::new().await;
    let mut fields = workflow_testkit::fields();
    fields.classification = Classification::Secret;
    fields.classification_period_years = Some(10);
    let id = c.sample_document(1, Some(fields)).await;
    // zhou.jie (XSC) is cleared for nothing classified.
    let zhou = c.signed_in("zhou.jie").await;
    let a = c.get(&zhou, &format!("/doc/{id}")).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    // The page says it cannot be shown: not that the document exists, nor its level.
    assert!(a.body.contains("该文件不能向您显示"), "{}", a.body);
    for telling in ["秘密", "Secret", "classified", "clearance", "zhou.jie"] {
        assert!(!a.body.contains(telling), "{telling:?} in {}", a.body);
    }
    let li = c.signed_in("li.qiang").await;
    assert_eq!(
        c.get(&li, &format!("/doc/{id}")).await.status,
        StatusCode::OK
    );
    let log = c
        .engine
        .access_log(&workflow_store::access::AccessQuery::default())
        .unwrap();
    assert!(
        log.iter().any(|e| e.system == "web"
            && e.actor.as_ref().map(|a| a.as_str()) == Some("li.qiang")
            && e.document_id == id),
        "{log:?}"
    );
}

#[tokio::test]
async fn the_operator_page_is_for_the_archive_and_administrators() {
    let c = Console::new().await;
    let li = c.signed_in("li.qiang").await;
    assert_eq!(c.get(&li, "/ops").await.status, StatusCode::FORBIDDEN);
    let xu = c.signed_in("xu.jing").await;
    let page = c.get(&xu, "/ops").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let head = c.engine.log_head().unwrap().to_string();
    assert!(page.body.contains(&head), "{}", page.body);
}

/// A notification given up shows on the operator page with why; 重新发送 puts it back in
/// the queue from its first try.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_page_shows_failed_notifications_and_retries_them() {
    use workflow_store::notify::{DeliveryState, Notifier};
    let c = Console::new().await;
    let config = workflow_testkit::notify::unreachable_webhook("portal");
    let notifier = Notifier::start(&c.engine, &config).unwrap().unwrap();
    c.sample_document(2, None).await;
    let dead = workflow_testkit::notify::dead_letters(&c.engine, 2).await;
    notifier.stop();
    let xu = c.signed_in("xu.jing").await;
    let page = c.get(&xu, "/ops").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("消息通知"), "{}", page.body);
    assert!(
        page.body.contains(&format!("发送失败 {}", dead.len())),
        "{}",
        page.body
    );
    assert!(page.body.contains("portal：已推送至"), "{}", page.body);
    let d = &dead[0];
    assert!(page.body.contains(&d.id), "a retry button for {}", d.id);
    assert!(page.body.contains("li.qiang"), "{}", page.body);
    // Retried: pending again, from its first try.
    let csrf = form_value(&page.body, "retry", "csrf").unwrap();
    let retried = c
        .post(&xu, "/ops/notify/retry", &[("csrf", &csrf), ("id", &d.id)])
        .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER, "{}", retried.body);
    let again = c.engine.deliveries(None, 0, 100).unwrap();
    let d = again.iter().find(|x| x.id == d.id).unwrap();
    assert_eq!((d.state, d.attempts), (DeliveryState::Pending, 0));
    // Not without the form's token, and not by someone who is no operator (with his own).
    let forged = c
        .post(
            &xu,
            "/ops/notify/retry",
            &[("csrf", "forged"), ("id", &dead[1].id)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let li = c.signed_in("li.qiang").await;
    let refused = c
        .post(
            &li,
            "/ops/notify/retry",
            &[("csrf", &li.csrf), ("id", &dead[1].id)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("系统运维页面仅供"),
        "{}",
        refused.body
    );
    let still = c
        .engine
        .deliveries(Some(DeliveryState::Dead), 0, 100)
        .unwrap();
    assert!(
        still.iter().any(|x| x.id == dead[1].id),
        "refused retries change nothing"
    );
    let page = c.get(&xu, "/ops").await;
    assert!(page.body.contains("待重试 1"), "{}", page.body);
}

#[tokio::test]
async fn header_sign_in_is_accepted_from_trusted_proxies_only() {
    let proxy: SocketAddr = "10.0.0.2:5000".parse().unwrap();
    let mut config = WebConfig::dev("10.0.0.1:8080".parse().unwrap());
    config.auth = AuthMode::Header;
    config.header = Some("X-Remote-User".into());
    config.trusted_proxies = vec![proxy.ip()];
    let c = Console::with(config).await;
    let get = |user: Option<&str>| {
        let mut r = Request::get("/todo");
        if let Some(u) = user {
            r = r.header("X-Remote-User", u);
        }
        r.body(Body::empty()).unwrap()
    };
    let ok = c.send(get(Some("li.qiang")), proxy).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body.contains("li.qiang"));
    // Behind the gateway (HTTPS) the CSRF cookie is sent over HTTPS only.
    let set: Vec<&str> = ok
        .headers
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        set.iter()
            .any(|c| c.starts_with("wf_csrf=") && c.contains("Secure")),
        "{set:?}"
    );
    let untrusted = c
        .send(get(Some("li.qiang")), "10.0.0.9:5000".parse().unwrap())
        .await;
    assert_eq!(
        untrusted.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        untrusted.body
    );
    assert!(untrusted.body.contains("10.0.0.9"));
    let missing = c.send(get(None), proxy).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert!(missing.body.contains("X-Remote-User"));
    let unknown = c.send(get(Some("nobody")), proxy).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown.body.contains("nobody"));
    // No dev sign-in behind a proxy.
    let b = c
        .send(Request::get("/signin").body(Body::empty()).unwrap(), proxy)
        .await;
    assert!(!b.body.contains("value=\"li.qiang\""));
}

#[tokio::test]
async fn the_bulletin_of_a_month_is_shown_and_downloadable() {
    let c = Console::new().await;
    let ding = c.signed_in("ding.xin").await;
    let page = c.get(&ding, "/bulletin?month=2026-10").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("督办工作月通报"), "{}", page.body);
    assert!(
        page.body.contains("发布2026年10月通报"),
        "a supervisor may publish an ended month: {}",
        page.body
    );
    assert!(page.body.contains("截至 2026-10-31 24:00"), "{}", page.body);
    // Opened without a month: the last one that has ended (the kit's clock is in
    // November 2026), the one under way a click on.
    let default = c.get(&ding, "/bulletin").await;
    assert!(
        default.body.contains("<small>2026-10</small>"),
        "{}",
        default.body
    );
    assert!(default.body.contains("href=\"/bulletin?month=2026-11\""));
    // The month under way: counted to now, marked so, and not to be published.
    let current = c.get(&ding, "/bulletin?month=2026-11").await;
    assert!(current.body.contains("截至今日"), "{}", current.body);
    assert!(current.body.contains("本月尚未结束"), "{}", current.body);
    assert!(
        current.body.contains("<th>目前逾期</th>"),
        "overdue now, not at a month end"
    );
    assert!(page.body.contains("<th>月末逾期</th>"));
    assert!(!current.body.contains("发布2026年11月通报"));
    assert!(
        !current.body.contains("id=\"next-month\""),
        "no month to come"
    );
    let early = c
        .post(
            &ding,
            "/bulletin/publish",
            &[
                ("csrf", ding.csrf.as_str()),
                ("month", "2026-11"),
                ("command_id", "early"),
            ],
        )
        .await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST, "{}", early.body);
    assert!(
        error_message(&early.body).contains("2026年11月还没有结束"),
        "{}",
        early.body
    );
    assert!(
        c.engine
            .publication(
                "2026-11".parse().unwrap(),
                workflow_core::directory::Classification::None
            )
            .unwrap()
            .is_none()
    );
    let file = c
        .get(&ding, "/bulletin/file?month=2026-10&format=csv")
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(
        file.headers
            .get(header::CONTENT_DISPOSITION)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("bulletin-2026-10.csv")
    );
    let bad = c.get(&ding, "/bulletin?month=2026-13").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("2026-13"));
}

#[tokio::test]
async fn a_post_another_site_made_is_refused() {
    let c = Console::new().await;
    let id = c.sample_document(2, None).await;
    let li = c.signed_in("li.qiang").await;
    let post = |name: &'static str, value: &'static str| {
        Request::post(format!("/doc/{id}"))
            .header(header::COOKIE, &li.cookies)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(name, value)
            .body(Body::from(format!(
                "csrf={}&action=Approve&version=2&opinion=x",
                li.csrf
            )))
            .unwrap()
    };
    for (name, value) in [("sec-fetch-site", "cross-site"), ("origin", "null")] {
        let a = c.send(post(name, value), LOOPBACK).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{name}: {}", a.body);
        assert!(error_message(&a.body).contains("跨站"), "{}", a.body);
    }
    assert_eq!(c.engine.document(id).unwrap().unwrap().version(), 2);
}

#[tokio::test]
async fn dev_sign_in_answers_this_machine_under_a_loopback_name_only() {
    let c = Console::new().await;
    // Another site's name pointed at 127.0.0.1 (DNS rebinding) gets nothing.
    let req = Request::get("/signin")
        .header(header::HOST, "evil.example:8080")
        .body(Body::empty())
        .unwrap();
    let a = c.send(req, LOOPBACK).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(!a.body.contains("li.qiang"));
    assert!(
        error_message(&a.body).contains("evil.example"),
        "{}",
        a.body
    );
    for host in ["localhost:8080", "127.0.0.1:8080", "[::1]:8080"] {
        let req = Request::get("/signin")
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap();
        assert_eq!(c.send(req, LOOPBACK).await.status, StatusCode::OK, "{host}");
    }
    // A connection from elsewhere (a console served on the wrong listener) gets nothing.
    let req = Request::get("/signin").body(Body::empty()).unwrap();
    let a = c.send(req, "192.0.2.7:5000".parse().unwrap()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
}

#[tokio::test]
async fn acting_is_no_read_and_a_refused_read_is_recorded_as_refused() {
    let c = Console::new().await;
    let mut fields = workflow_testkit::fields();
    fields.classification = Classification::Secret;
    fields.classification_period_years = Some(10);
    let id = c.sample_document(1, Some(fields)).await;
    let entries = || {
        c.engine
            .access_log(&workflow_store::access::AccessQuery::default())
            .unwrap()
            .into_iter()
            .filter(|e| e.document_id == id)
            .map(|e| (e.actor.map(|a| a.to_string()).unwrap_or_default(), e.what))
            .collect::<Vec<_>>()
    };
    let zhou = c.signed_in("zhou.jie").await;
    assert_eq!(
        c.get(&zhou, &format!("/doc/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
    // The attempt is on record (an audit wants the attempts too), as refused.
    let refused = vec![("zhou.jie".to_owned(), "refused".to_owned())];
    assert_eq!(entries(), refused);
    let detail = &c
        .engine
        .access_log(&workflow_store::access::AccessQuery::default())
        .unwrap()
        .into_iter()
        .find(|e| e.document_id == id)
        .unwrap()
        .detail;
    assert!(detail.starts_with("get: clearance"), "{detail}");
    let entries = || entries().into_iter().skip(1).collect::<Vec<_>>();
    let wang = c.signed_in("wang.fang").await;
    assert_eq!(
        c.get(&wang, &format!("/doc/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(entries(), vec![("wang.fang".to_owned(), "get".to_owned())]);
    // A revision (an action) is recorded by its command, not as another read.
    let a = c
        .act(
            &wang,
            id,
            &[("action", "Withdraw"), ("version", "1"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::CONFLICT,
        "nothing to withdraw from a draft: {}",
        a.body
    );
    // The refusal shows the page again: that is a read.
    assert_eq!(
        entries(),
        vec![
            ("wang.fang".to_owned(), "get".to_owned()),
            ("wang.fang".to_owned(), "get".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_timeline_is_read_at_the_highest_classification_its_document_had() {
    let c = Console::new().await;
    let mut fields = workflow_testkit::fields();
    fields.classification = Classification::Secret;
    fields.classification_period_years = Some(10);
    let id = c.sample_document(1, Some(fields)).await;
    // Revised down to 非密: the card is zhou.jie's to read, the 秘密 versions are not.
    let revise = workflow_core::outgoing::Action::Revise(workflow_testkit::fields());
    c.engine
        .execute(workflow_store::Request::new(id, "wang.fang", revise))
        .await
        .unwrap();
    let zhou = c.signed_in("zhou.jie").await;
    assert_eq!(
        c.get(&zhou, &format!("/doc/{id}")).await.status,
        StatusCode::OK
    );
    let t = c.get(&zhou, &format!("/doc/{id}/timeline")).await;
    assert_eq!(t.status, StatusCode::FORBIDDEN, "{}", t.body);
    let li = c.signed_in("li.qiang").await;
    assert_eq!(
        c.get(&li, &format!("/doc/{id}/timeline")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn search_and_bulletin_escape_what_they_echo() {
    let c = Console::new().await;
    let li = c.signed_in("li.qiang").await;
    let a = c
        .get(&li, "/search?unit=%3Cscript%3Ex%3C%2Fscript%3E")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(!a.body.contains("<script>x"), "{}", a.body);
    let b = c.get(&li, "/bulletin?month=%3Cscript%3E").await;
    assert_eq!(b.status, StatusCode::BAD_REQUEST);
    assert!(!b.body.contains("<script>"), "{}", b.body);
    assert!(b.body.contains("&#60;script&#62;"), "{}", b.body);
}

#[tokio::test]
async fn the_todo_pages_with_the_engine_s_tokens() {
    let c = Console::new().await;
    c.sample_document(2, None).await;
    let li = c.signed_in("li.qiang").await;
    let page = c.get(&li, "/todo").await;
    assert!(
        !page.body.contains("next-page"),
        "one page only: {}",
        page.body
    );
    let bad = c.get(&li, "/todo?page_token=garbage").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(
        error_detail(&bad.body).contains("page_token"),
        "{}",
        bad.body
    );
}

#[tokio::test]
async fn a_memo_shows_its_sheet_and_offers_each_person_their_step() {
    let c = Console::new().await;
    // Countersigned: with the office for 核稿, whoever the leaders will be.
    let at_office = c.sample_memo(5).await;
    let page = c
        .get(&c.signed_in("liu.yang").await, &format!("/doc/{at_office}"))
        .await;
    assert!(
        page.body.contains("data-action=\"AcceptMemo\""),
        "{}",
        page.body
    );
    let page = c
        .get(
            &c.signed_in("wang.fang").await,
            &format!("/doc/{at_office}"),
        )
        .await;
    assert!(
        !page.body.contains("data-action=\"AcceptMemo\""),
        "{}",
        page.body
    );
    // Accepted by the office: 宋华 (分管) 批示 first, then 林志远.
    let id = c.sample_memo(6).await;
    let clerk = c.signed_in("liu.yang").await;
    let page = c.get(&clerk, &format!("/doc/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("签报单"), "{}", page.body);
    assert!(page.body.contains("X校教签〔"), "{}", page.body);
    assert!(page.body.contains("拟同意，请宋副校长、林校长批示。"));
    assert!(!page.body.contains("data-action=\"EndorseMemo\""));
    let song = c.signed_in("song.hua").await;
    let todo = c.get(&song, "/todo").await;
    assert!(todo.body.contains(&format!("/doc/{id}")), "{}", todo.body);
    let page = c.get(&song, &format!("/doc/{id}")).await;
    for action in ["EndorseMemo", "ReferMemo", "ReturnMemo"] {
        assert!(
            page.body.contains(&format!("data-action=\"{action}\"")),
            "{action}: {}",
            page.body
        );
    }
    assert!(page.body.contains("修改后同意"));
    let lin = c.signed_in("lin.zhiyuan").await;
    let page = c.get(&lin, &format!("/doc/{id}")).await;
    assert!(
        !page.body.contains("data-action=\"EndorseMemo\""),
        "not yet his turn"
    );
    // Asking for 督办 without its deadline: a plain sentence, nothing changed.
    let a = c
        .act(
            &song,
            id,
            &[
                ("action", "EndorseMemo"),
                ("version", "6"),
                ("decision", "agree"),
                ("text", "同意，列入督办。"),
                ("supervise", "yes"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(error_message(&a.body).contains("督办时限"), "{}", a.body);
    let memo = |c: &Console| {
        c.engine
            .state(id)
            .unwrap()
            .and_then(workflow_core::FlowState::into_submission)
            .unwrap()
    };
    assert_eq!(memo(&c).version(), 6);
    let a = c
        .act(
            &song,
            id,
            &[
                ("action", "EndorseMemo"),
                ("version", "6"),
                ("decision", "agree_with_changes"),
                ("text", "同意，经费压缩，请林校长审批。"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let m = memo(&c);
    assert_eq!(m.directives().len(), 1);
    assert_eq!(m.leader().map(|l| l.as_str()), Some("lin.zhiyuan"));
    let page = c.get(&lin, &format!("/doc/{id}")).await;
    assert!(
        page.body.contains("data-action=\"EndorseMemo\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("同意，经费压缩，请林校长审批。"));
    // The deciding 批示 puts it under 督办.
    let deadline = (workflow_testkit::clock::today() + chrono::Duration::days(30)).to_string();
    let a = c
        .act(
            &lin,
            id,
            &[
                ("action", "EndorseMemo"),
                ("version", "7"),
                ("decision", "agree"),
                ("text", "同意，列入督办。"),
                ("supervise", "yes"),
                ("deadline", deadline.as_str()),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let m = memo(&c);
    assert_eq!(
        m.supervision_items().len(),
        1,
        "the 批示 opened its 督办 item"
    );
    assert_eq!(m.step(), workflow_core::submission::Step::Decided);
    // The search page filters by the new flow.
    let found = c.get(&clerk, "/search?flow=submission").await;
    assert!(found.body.contains(&format!("/doc/{id}")), "{}", found.body);
    assert!(
        found
            .body
            .contains("<option value=\"submission\" selected>签报</option>")
    );
}

#[tokio::test]
async fn search_finds_documents_by_keywords() {
    let c = Console::new().await;
    let id = c.sample_document(2, None).await;
    let li = c.signed_in("li.qiang").await;
    let page = c.get(&li, "/search").await;
    assert!(
        page.body.contains("name=\"q\""),
        "a keyword box: {}",
        page.body
    );
    let hit = c
        .get(&li, "/search?q=%E6%9C%9F%E6%9C%AB%E8%80%83%E8%AF%95")
        .await; // 期末考试
    assert_eq!(hit.status, StatusCode::OK);
    assert!(hit.body.contains(&format!("/doc/{id}")), "{}", hit.body);
    assert!(
        hit.body.contains("value=\"期末考试\""),
        "the words stay in the box"
    );
    // Words of the 正文 find it too; every word must occur.
    let body = c
        .get(&li, "/search?q=%E8%80%83%E9%A3%8E%E8%80%83%E7%BA%AA")
        .await; // 考风考纪
    assert!(body.body.contains(&format!("/doc/{id}")), "{}", body.body);
    let miss = c
        .get(
            &li,
            "/search?q=%E6%9C%9F%E6%9C%AB%E8%80%83%E8%AF%95+%E5%90%88%E6%A0%BC%E8%AF%84%E4%BC%B0",
        ) // 期末考试 合格评估
        .await;
    assert!(!miss.body.contains(&format!("/doc/{id}")), "{}", miss.body);
    assert!(miss.body.contains("没有符合条件的文件"));
}

#[tokio::test]
async fn dev_cookies_are_not_secure_on_plain_http() {
    let c = Console::new().await;
    let a = c
        .send(
            Request::get("/signin").body(Body::empty()).unwrap(),
            common::LOOPBACK,
        )
        .await;
    let set = a
        .headers
        .get(axum::http::header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set.starts_with("wf_csrf=") && !set.contains("Secure"),
        "{set}"
    );
}

#[tokio::test]
async fn an_unknown_address_is_a_page_in_chinese_with_the_way_on() {
    let c = Console::new().await;
    let li = c.signed_in("li.qiang").await;
    let page = c.get(&li, "/no/such/page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("<h1>没有这个页面</h1>"), "{}", page.body);
    assert!(
        page.body.contains("<a href=\"/todo\">返回待办</a>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("/static/app.css"));
    // Not signed in: a document's address sends the visitor to sign in first.
    let b = c.browser().await;
    let page = c.get(&b, "/doc/not-an-id").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers.get(header::LOCATION).unwrap(), "/signin");
}

/// The archivist runs the 四性检测 of a year from the operator page: a malformed field is
/// said in a sentence and starts nothing; the check runs in the background, then shows a
/// row per check and gives its report as CSV.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_page_runs_the_four_properties_check_and_gives_its_csv() {
    let c = Console::new().await;
    let id = c
        .sample_document(workflow_testkit::steps::ARCHIVED, None)
        .await;
    let state = c.engine.state(id).unwrap().unwrap();
    let reference = state.particulars().archive.unwrap().reference.clone();
    let xu = c.signed_in("xu.jing").await;
    let page = c.get(&xu, "/ops").await;
    assert!(page.body.contains("四性检测（DA/T 70）"), "{}", page.body);
    // The form starts at this year (the console's clock).
    let year = chrono::Datelike::year(&workflow_testkit::clock::today()).to_string();
    assert!(
        page.body.contains(&format!(
            "name=\"year\" size=\"6\" inputmode=\"numeric\" placeholder=\"全部\" value=\"{year}\""
        )),
        "{}",
        page.body
    );
    // Nothing to download before a check.
    let csv = c.get(&xu, "/ops/archive-check.csv").await;
    assert_eq!(csv.status, StatusCode::BAD_REQUEST);
    assert!(
        error_message(&csv.body).contains("还没有完成的四性检测"),
        "{}",
        csv.body
    );
    // A year that is none: said, kept in the form, nothing started.
    let refused = c
        .post(
            &xu,
            "/ops/archive-check",
            &[("csrf", &xu.csrf), ("year", "二〇二六"), ("fonds", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused.body.contains("年度“二〇二六”不对"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"二〇二六\""),
        "{}",
        refused.body
    );
    assert!(
        !c.get(&xu, "/ops/archive-check")
            .await
            .body
            .contains("正在检测")
    );
    // A year out of the 值域, and a 全宗号 that is none: said the same way.
    for (field, value, said) in [
        (
            "year",
            "1800",
            "年度“1800”不对：年度是 1949 至 2200 之间的年份",
        ),
        ("fonds", "J 012", "全宗号“J 012”不对"),
    ] {
        let refused = c
            .post(
                &xu,
                "/ops/archive-check",
                &[("csrf", &xu.csrf), (field, value)],
            )
            .await;
        assert!(refused.body.contains(said), "{}", refused.body);
        assert!(refused.body.contains("没有开始检测"), "{}", refused.body);
    }
    // Not by someone who is no operator, nor without the form's token.
    let li = c.signed_in("li.qiang").await;
    let (year, retention) = (reference.year.to_string(), reference.retention.code());
    let post = |who, csrf, fonds| start_check(&c, who, csrf, fonds, &year, retention);
    assert_eq!(
        post(&li, &li.csrf, &reference.fonds).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&xu, "forged", &reference.fonds).await.status,
        StatusCode::FORBIDDEN
    );
    // The year's permanent (or whatever the schedule gave) records of the 全宗.
    let started = post(&xu, &xu.csrf, &reference.fonds).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let done = finished(&c, &xu).await;
    assert!(done.contains("12 项检测全部通过"), "{done}");
    assert!(done.contains("归档记录 1 件"), "{done}");
    assert!(
        done.contains("件号连续性") && done.contains("data-label=\"结果\">通过"),
        "{done}"
    );
    assert!(done.contains("徐静（xu.jing）"), "{done}");
    let csv = c.get(&xu, "/ops/archive-check.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(
        csv.body
            .starts_with("\u{feff}性,代码,检测项,结果,检查数,说明\n"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("integrity.item_numbers"), "{}", csv.body);
    // A mistyped 全宗号 covers nothing: no pass, and the panel says what to check.
    post(&xu, &xu.csrf, "J999").await;
    let done = finished(&c, &xu).await;
    assert!(done.contains("范围内没有归档记录"), "{done}");
    assert!(done.contains("banner error"), "{done}");
}

/// Sends the 四性检测 form.
async fn start_check(
    c: &Console,
    who: &common::Browser,
    csrf: &str,
    fonds: &str,
    year: &str,
    retention: &str,
) -> common::Answer {
    let form = [
        ("csrf", csrf),
        ("fonds", fonds),
        ("year", year),
        ("retention", retention),
        ("against", ""),
    ];
    c.post(who, "/ops/archive-check", &form).await
}

/// The panel, polled as the page does until the check under way has finished.
async fn finished(c: &Console, who: &common::Browser) -> String {
    for _ in 0..600 {
        let panel = c.get(who, "/ops/archive-check").await.body;
        if !panel.contains("正在检测") {
            return panel;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the 四性检测 did not finish in 30 s");
}
