//! The console in a real browser: Debian's headless Chromium driven over WebDriver
//! (`chromedriver`) by fantoccini. Sign in, see the to-do, approve with an opinion, see the
//! timeline change, produce a 月通报, run verify. Nothing downloads a browser: `scripts/test`
//! installs the `chromium` and `chromium-driver` packages, and without them this test fails,
//! never skips.
//!
//! The screenshots of the main pages go to `$WORKFLOW_SCREENSHOTS` when set (the README's
//! are taken with `WORKFLOW_SCREENSHOTS=docs/screenshots`), else to cargo's test temp dir.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::NaiveDate;
use fantoccini::{Client, ClientBuilder, Locator};
use workflow_core::supervision::{ItemSpec, Source, SupervisionAction};
use workflow_store::{Engine, Request};
use workflow_web::WebConfig;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver, stopped with every process it started (Chromium and its helpers) when the
/// test ends, also when it fails: a failed run leaves no browser behind, and no files
/// either — Chromium's profile and scratch folders (`TMPDIR`) are in a folder of the test's
/// own, removed after the processes (Chromium killed cannot tidy its `/tmp`, and a suite
/// run every day filled a CI machine's disk with them).
struct Driver(Child, #[allow(dead_code)] tempfile::TempDir);

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole tree first, while the parent links still hold: once chromedriver is
        // gone, Chromium is reparented and no longer found through it.
        let tree = descendants(self.0.id());
        let _ = self.0.kill();
        let _ = self.0.wait();
        if !tree.is_empty() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(tree.iter().map(u32::to_string))
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The processes below `root`, read from `/proc` (each process's parent is the fourth field
/// of its `stat`, after the command name in parentheses).
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        if let Some(ppid) = after_name
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
        {
            parent_of.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parent_of
                .iter()
                .filter(|&&(_, ppid)| ppid == parent)
                .map(|&(pid, _)| pid),
        );
        i += 1;
    }
    found.remove(0);
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

async fn start_driver() -> (Driver, String) {
    for path in [CHROMEDRIVER, CHROMIUM] {
        assert!(
            std::path::Path::new(path).exists(),
            "{path} is missing: the browser tests need Debian's chromium and chromium-driver \
             packages (scripts/test installs them)"
        );
    }
    let port = free_port();
    let scratch = tempfile::tempdir().unwrap();
    // The browser runs on the machine's own clock, also when the suite runs under
    // `faketime` (which Chromium does not survive): nothing it shows depends on it, the
    // console's clock is the test's.
    let child = Command::new(CHROMEDRIVER)
        .env_remove("LD_PRELOAD")
        .env_remove("FAKETIME")
        .env("TMPDIR", scratch.path())
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver(child, scratch);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (driver, url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start listening on port {port}");
}

async fn browser(driver: &str) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                "--lang=zh-CN"
            ]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(driver)
        .await
        .unwrap()
}

fn shots() -> PathBuf {
    let dir = std::env::var_os("WORKFLOW_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
    std::fs::write(shots().join(name), png).unwrap();
}

async fn sign_in(c: &Client, base: &str, actor: &str) {
    c.goto(&format!("{base}/signin")).await.unwrap();
    c.find(Locator::Css(&format!("button[value='{actor}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let Ok(who) = c.wait().for_element(Locator::Id("who")).await else {
        panic!(
            "not signed in as {actor}: at {:?}\n{}",
            c.current_url().await.map(|u| u.to_string()),
            c.source().await.unwrap_or_default()
        );
    };
    assert!(who.text().await.unwrap().contains(actor));
}

/// What sticks out past the right edge of the page, if anything (empty when it fits).
async fn sideways(c: &Client) -> serde_json::Value {
    c.execute(
        "const w = document.documentElement.clientWidth; \
         const wide = document.documentElement.scrollWidth > w + 1 \
           ? ['the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + w] : []; \
         return wide.concat([...document.querySelectorAll('body *')] \
           .filter(e => e.getBoundingClientRect().right > w + 1) \
           .map(e => e.tagName + '.' + e.className + ' ' + \
                Math.round(e.getBoundingClientRect().right) + ': ' + \
                (e.textContent || '').trim().slice(0, 30)));",
        vec![],
    )
    .await
    .unwrap()
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The fixture's sample 发文, its 正文 a PDF, at li.qiang's review; and one 督办 item due on
/// 11-10.
async fn office(engine: &Engine) -> workflow_core::DocumentId {
    let id = workflow_testkit::engine::new_id();
    let (flow, _) = workflow_testkit::engine::flow_with_text(engine);
    for (actor, action) in flow.into_iter().take(2) {
        engine
            .execute(Request::new(id, actor, action))
            .await
            .unwrap();
    }
    let spec = ItemSpec {
        source: Source::Direct,
        title: "完成2026年本科教学质量报告".into(),
        requirements: "11月10日前报送".into(),
        leader: "lin.zhiyuan".into(),
        lead_unit: "JWC".into(),
        responsible: None,
        co_units: vec![],
        deadline: NaiveDate::from_ymd_opt(2026, 11, 10).unwrap(),
        feedback: Default::default(),
        warn_days: 3,
        classification: Default::default(),
    };
    engine
        .execute(Request::new(
            workflow_testkit::engine::new_id(),
            "ding.xin",
            SupervisionAction::OpenItem { spec },
        ))
        .await
        .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_day_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    // One clock for the engine and the console: the kit's, pinned to 2026-11-02.
    let clock = workflow_testkit::clock::running_clock();
    let engine = workflow_testkit::engine::open_on_its_clock(workflow_store::Config {
        clock: clock.clone(),
        ..workflow_store::Config::new(dir.path())
    })
    .await;
    let id = office(&engine).await;
    // A 签报 the office accepted: 宋华 (分管) 批示 first.
    let memo = workflow_testkit::engine::new_id();
    let deadline = NaiveDate::from_ymd_opt(2027, 4, 30).unwrap();
    for (actor, action) in workflow_testkit::submission::memo_flow(deadline, "J012")
        .into_iter()
        .take(6)
    {
        engine
            .execute(Request::new(memo, actor, action))
            .await
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = WebConfig::dev(listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(workflow_web::serve(
        engine.clone(),
        config,
        clock,
        listener,
        async move {
            let _ = stopped.await;
        },
    ));
    let (_driver, driver_url) = start_driver().await;
    let c = browser(&driver_url).await;

    // li.qiang signs in and sees the draft waiting for his review.
    sign_in(&c, &base, "li.qiang").await;
    let todo = text_of(&c, "#rows").await;
    assert!(
        todo.contains("关于做好2026年秋季学期期末考试工作的通知"),
        "{todo}"
    );
    shot(&c, "todo.png").await;
    // On a phone the 待办 is a column of cards, nothing wider than the screen, and the card
    // of a document has its step forward one tap away at the bottom of the screen.
    c.set_window_size(390, 844).await.unwrap();
    assert_eq!(
        sideways(&c).await,
        serde_json::json!([]),
        "the 待办 fits a 390 px phone"
    );
    shot(&c, "todo-390.png").await;
    c.goto(&format!("{base}/doc/{id}")).await.unwrap();
    assert_eq!(sideways(&c).await, serde_json::json!([]), "the card fits");
    let bar = c
        .execute(
            "const b = document.getElementById('act-bar'); const r = b.getBoundingClientRect(); \
             return [getComputedStyle(b).position, Math.round(r.bottom) === window.innerHeight, \
                     b.textContent.trim()];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        bar,
        serde_json::json!(["sticky", true, "审核通过"]),
        "{bar}"
    );
    shot(&c, "document-390.png").await;
    c.set_window_size(1400, 1000).await.unwrap();
    c.goto(&format!("{base}/todo")).await.unwrap();
    c.find(Locator::Css(&format!("a[href='/doc/{id}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(text_of(&c, "#state").await, "审核");
    // The 正文 is on the card, the PDF shown in place (the viewer's frame holds the PDF,
    // not an error page a policy made of it).
    assert!(text_of(&c, "#files").await.contains("自评自建工作方案.pdf"));
    let mut shown = serde_json::Value::Null;
    for _ in 0..100 {
        shown = c
            .execute(
                "const f = document.getElementById('viewer'); \
                 return f && f.contentDocument ? f.contentDocument.contentType : null;",
                vec![],
            )
            .await
            .unwrap();
        if shown == "application/pdf" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shown, "application/pdf", "the 正文 shows as a PDF");
    c.set_window_size(1400, 1000).await.unwrap();
    // Time for the viewer to draw its first page, for the picture only.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    shot(&c, "document-pdf-1400.png").await;
    c.set_window_size(390, 844).await.unwrap();
    let hidden = c
        .execute(
            "return getComputedStyle(document.getElementById('viewer')).display;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(hidden, "none", "a phone opens the 正文 by its link");
    c.execute("document.getElementById('files').scrollIntoView();", vec![])
        .await
        .unwrap();
    assert!(
        c.find(Locator::Css("#files a.file"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    );
    shot(&c, "document-pdf-390.png").await;
    c.set_window_size(1280, 900).await.unwrap();

    // Approves with an opinion (given on the 正文 the page showed); the page says so and
    // the opinion is on the card.
    let form = c
        .find(Locator::Css("form[data-action='Approve']"))
        .await
        .unwrap();
    form.find(Locator::Css("textarea[name='opinion']"))
        .await
        .unwrap()
        .send_keys("同意。请相关部门会签。")
        .await
        .unwrap();
    form.find(Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(text_of(&c, "#done").await.contains("审核通过"));
    assert!(
        text_of(&c, "#opinions")
            .await
            .contains("同意。请相关部门会签。")
    );
    assert!(text_of(&c, "#state").await.contains("会签"));
    shot(&c, "document.png").await;
    // Printed (Ctrl+P), the card is the paper form: the 发文稿纸 with its title and opinions,
    // without the menu, the forms or the sign-out; its first page kept as a picture.
    let pdf = c
        .print(fantoccini::wd::PrintConfiguration::default())
        .await
        .unwrap();
    let printed = tempfile::tempdir().unwrap();
    let file = printed.path().join("card.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for present in [
        "发文稿纸",
        "关于做好2026年秋季学期期末考试工作的通知",
        "同意。请相关部门会签。",
    ] {
        assert!(text.contains(present), "{present} not printed: {text}");
    }
    for absent in ["退出", "我发起的", "月通报", "已归档", "已办理"] {
        assert!(!text.contains(absent), "{absent} printed: {text}");
    }
    let page = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&file)
        .arg(shots().join("document-print"))
        .status()
        .unwrap();
    assert!(page.success());
    let doc = engine.document(id).unwrap().unwrap();
    assert_eq!(doc.version(), 3, "one approval, recorded once");
    let approved = engine.history(id).unwrap();
    assert_eq!(
        approved.last().unwrap().payload["content"],
        doc.fields().files.main_digest().unwrap().as_str(),
        "the approval records the 正文 it was given on"
    );

    // The timeline shows the new event with the opinion.
    c.find(Locator::Id("timeline-link"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let timeline = text_of(&c, "#timeline").await;
    assert!(timeline.contains("同意。请相关部门会签。"), "{timeline}");
    assert!(timeline.contains("李强"), "{timeline}");
    shot(&c, "timeline.png").await;

    // 宋华, on a desk (1400 px) and then on a phone (390 px), gives the 签报 his 批示.
    c.set_window_size(1400, 1000).await.unwrap();
    sign_in(&c, &base, "song.hua").await;
    c.find(Locator::Css(&format!("a[href='/doc/{memo}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(text_of(&c, "#state").await, "待批示");
    let card = text_of(&c, "main").await;
    assert!(card.contains("签报单"), "{card}");
    assert!(card.contains("拟同意，请宋副校长、林校长批示。"), "{card}");
    shot(&c, "memo-1400.png").await;
    c.set_window_size(390, 844).await.unwrap();
    let wide = sideways(&c).await;
    shot(&c, "memo-390.png").await;
    assert_eq!(
        wide,
        serde_json::json!([]),
        "the 签报单 fits a 390 px phone without scrolling sideways"
    );
    let form = c
        .find(Locator::Css("form[data-action='EndorseMemo']"))
        .await
        .unwrap();
    form.find(Locator::Css(
        "select[name='decision'] option[value='agree_with_changes']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    form.find(Locator::Css("textarea[name='text']"))
        .await
        .unwrap()
        .send_keys("同意，经费压缩至10万元，请林校长审批。")
        .await
        .unwrap();
    form.find(Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(text_of(&c, "#done").await.contains("批示"));
    assert!(
        text_of(&c, "main")
            .await
            .contains("修改后同意：同意，经费压缩至10万元，请林校长审批。")
    );
    let m = engine
        .state(memo)
        .unwrap()
        .and_then(workflow_core::FlowState::into_submission)
        .unwrap();
    assert_eq!(m.directives().len(), 1, "one 批示, recorded once");
    assert_eq!(m.leader().map(|l| l.as_str()), Some("lin.zhiyuan"));
    c.set_window_size(1400, 1000).await.unwrap();

    // The supervisor reads this month's 月通报 so far (the clock's month: November 2026,
    // its second day): the item opened is counted for 教务处, not yet overdue (due on the
    // 10th), and the month is not to be published yet.
    sign_in(&c, &base, "ding.xin").await;
    let month = workflow_core::supervision::bulletin::month_of(workflow_testkit::clock::now());
    c.goto(&format!("{base}/bulletin?month={month}"))
        .await
        .unwrap();
    let units = text_of(&c, "#bulletin-units").await;
    assert!(
        units.contains("合计") && units.contains("教务处"),
        "{units}"
    );
    assert!(text_of(&c, "h1").await.contains("截至今日"));
    assert!(text_of(&c, "#not-yet").await.contains("本月尚未结束"));
    // 督办事项一览: the item with its 立项号, leader and unit by name.
    let items = text_of(&c, "#bulletin-items").await;
    for part in [
        "督〔2026〕1号",
        "完成2026年本科教学质量报告",
        "林志远",
        "教务处",
        "已立项",
    ] {
        assert!(items.contains(part), "{part} in {items}");
    }
    shot(&c, "bulletin.png").await;

    // A campus portal's webhook that does not answer: the notices of a document submitted
    // now are given up (tried once), for the operator page to show.
    let notifier = workflow_store::notify::Notifier::start(
        &engine,
        &workflow_testkit::notify::unreachable_webhook("portal"),
    )
    .unwrap()
    .unwrap();
    let submitted = workflow_testkit::engine::new_id();
    for (actor, action) in workflow_testkit::full_flow().into_iter().take(2) {
        engine
            .execute(Request::new(submitted, actor, action))
            .await
            .unwrap();
    }
    workflow_testkit::notify::dead_letters(&engine, 1).await;
    notifier.stop();

    // A 发文 filed this year, for the archivist's 四性检测.
    let filed = workflow_testkit::engine::new_id();
    for (actor, action) in workflow_testkit::full_flow()
        .into_iter()
        .take(workflow_testkit::steps::ARCHIVED)
    {
        engine
            .execute(Request::new(filed, actor, action))
            .await
            .unwrap();
    }

    // The archivist verifies the log from the operator page; htmx shows the progress.
    sign_in(&c, &base, "xu.jing").await;
    c.goto(&format!("{base}/ops")).await.unwrap();
    let head = text_of(&c, "#head").await;
    assert_eq!(head, engine.log_head().unwrap().to_string());
    c.find(Locator::Id("verify-start"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let verdict = text_of(&c, "#verify-result").await;
    assert!(verdict.contains("日志完整"), "{verdict}");
    assert!(
        verdict.contains(&format!("已校验 {} 条事件", engine.head())),
        "{verdict}"
    );
    let failing = text_of(&c, "#failing").await;
    assert!(
        failing.contains("portal") && failing.contains("发送失败"),
        "{failing}"
    );
    shot(&c, "ops.png").await;
    // Then the year's 四性检测 (DA/T 70), from the same page: a row per check.
    c.find(Locator::Id("check-start"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let verdict = text_of(&c, "#check-result").await;
    assert!(verdict.contains("项检测全部通过"), "{verdict}");
    let rows = text_of(&c, "#check-items").await;
    assert!(
        rows.contains("件号连续性") && rows.contains("内容数据可读性"),
        "{rows}"
    );
    c.execute(
        "document.getElementById('archive-check').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    shot(&c, "ops-archive-check.png").await;
    c.set_window_size(390, 844).await.unwrap();
    assert_eq!(
        sideways(&c).await,
        serde_json::json!([]),
        "the operator page, failed notifications and all, fits a phone"
    );
    // On the phone, the 消息通知 card: each failed notification a block of labelled lines.
    c.execute("document.getElementById('notify').scrollIntoView()", vec![])
        .await
        .unwrap();
    shot(&c, "ops-390.png").await;
    c.execute(
        "document.getElementById('archive-check').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    shot(&c, "ops-archive-check-390.png").await;
    c.set_window_size(1400, 1000).await.unwrap();

    // A reader with 收文 passed round to them ticks them all (全选) and marks them read in
    // one go, on a desk and then on a phone.
    let sample = workflow_testkit::incoming::incoming_sample();
    let reader = sample.readers[0].clone();
    let mut circulated = Vec::new();
    for _ in 0..3 {
        let rid = workflow_testkit::engine::new_id();
        for (actor, mut action) in workflow_testkit::incoming::instruct_flow(&sample, "X001")
            .into_iter()
            .take(2)
        {
            if let workflow_core::incoming::IncomingAction::Register { registration, .. } =
                &mut action
            {
                registration.reply_required = false;
            }
            engine
                .execute(Request::new(rid, actor.as_str(), action))
                .await
                .unwrap();
        }
        let mut propose = Request::new(
            rid,
            sample.director.as_str(),
            workflow_core::incoming::IncomingAction::Propose {
                plan: workflow_core::incoming::Plan::circulate(sample.readers.clone()),
                opinion: "请传阅。".into(),
            },
        );
        propose.expected_version = Some(2);
        engine.execute(propose).await.unwrap();
        circulated.push(rid);
    }
    sign_in(&c, &base, reader.as_str()).await;
    let waiting = engine
        .inbox(
            &reader,
            &workflow_store::ListQuery {
                page_size: 500,
                ..Default::default()
            },
        )
        .unwrap()
        .states
        .len();
    assert!(waiting >= 3);
    assert_eq!(
        text_of(&c, "#todo-count").await,
        waiting.to_string(),
        "the menu counts the 待办"
    );
    shot(&c, "todo-batch.png").await;
    c.set_window_size(390, 844).await.unwrap();
    assert_eq!(
        sideways(&c).await,
        serde_json::json!([]),
        "the batch fits a phone"
    );
    shot(&c, "todo-batch-390.png").await;
    c.find(Locator::Id("pick-all"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let ticked = c
        .execute(
            "return document.querySelectorAll('input[name=pick]:checked').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(ticked, serde_json::json!(3), "全选 ticks every row");
    c.find(Locator::Css("form#batch button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let notice = text_of(&c, "#batch-notice").await;
    assert!(notice.contains("已办理 3 件"), "{notice}");
    for rid in &circulated {
        let r = engine
            .state(*rid)
            .unwrap()
            .and_then(workflow_core::FlowState::into_incoming)
            .unwrap();
        assert!(r.readers().get(&reader).is_some_and(Option::is_some));
    }
    // What they did is in their 已办, newest first.
    c.goto(&format!("{base}/done")).await.unwrap();
    assert_eq!(
        sideways(&c).await,
        serde_json::json!([]),
        "已办 fits a phone"
    );
    shot(&c, "done-390.png").await;
    c.set_window_size(1400, 1000).await.unwrap();
    let done = text_of(&c, "#rows").await;
    assert!(done.contains("收文"), "{done}");
    shot(&c, "done.png").await;

    // The office's 文书 sees the 收文 they registered under 我发起的, newest first.
    sign_in(&c, &base, sample.registrar.as_str()).await;
    c.goto(&format!("{base}/mine")).await.unwrap();
    let mine = text_of(&c, "#rows").await;
    assert_eq!(
        mine.matches(sample.registration.title.as_str()).count(),
        3,
        "{mine}"
    );
    shot(&c, "mine.png").await;
    // They find them by their 来文字号, then one of them by its 收文编号, typed into 查询
    // (the keyword index answers), on a desk and on a phone.
    let search = |words: String| {
        let c = c.clone();
        let base = base.clone();
        async move {
            c.goto(&format!("{base}/search")).await.unwrap();
            c.find(Locator::Id("q"))
                .await
                .unwrap()
                .send_keys(&words)
                .await
                .unwrap();
            c.find(Locator::Css("form.filters button[type='submit']"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            // The answer's page, not the empty form's still on screen.
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                let url = c.current_url().await.unwrap();
                let ready = c
                    .execute("return document.readyState;", vec![])
                    .await
                    .unwrap();
                if url.as_str().contains("q=") && ready == serde_json::json!("complete") {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "no answer page: {url}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            c.execute(
                "return [...document.querySelectorAll('#rows tbody tr')].map(r => r.innerText);",
                vec![],
            )
            .await
            .unwrap()
        }
    };
    let rows = search(sample.registration.from_number.clone()).await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.as_str().unwrap().contains(&sample.registration.title)),
        "{rows:?}"
    );
    let first = engine
        .state(circulated[0])
        .unwrap()
        .and_then(workflow_core::FlowState::into_incoming)
        .unwrap();
    let rows = search(first.number().to_string()).await;
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows:?}");
    shot(&c, "search.png").await;
    c.set_window_size(390, 844).await.unwrap();
    assert_eq!(
        sideways(&c).await,
        serde_json::json!([]),
        "查询 fits a phone"
    );
    shot(&c, "search-390.png").await;
    // 收文登记 as 何平 does it: the form fits a phone; at a desk she fills it in and the
    // 收文 is registered, its card open.
    c.goto(&format!("{base}/register")).await.unwrap();
    assert_eq!(
        sideways(&c).await,
        serde_json::json!([]),
        "收文登记 fits a phone"
    );
    shot(&c, "register-390.png").await;
    c.set_window_size(1400, 1000).await.unwrap();
    for (name, value) in [
        ("from", "省财政厅"),
        ("from_number", "X财教〔2026〕88号"),
        ("title", "关于做好2026年度部门决算工作的通知"),
        ("pages", "3"),
        ("copies", "1"),
    ] {
        c.find(Locator::Css(&format!("#register input[name='{name}']")))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    shot(&c, "register.png").await;
    c.find(Locator::Id("register-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let title = c
        .wait()
        .for_element(Locator::Id("title"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(title, "关于做好2026年度部门决算工作的通知");
    let done = c
        .find(Locator::Id("done"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(done.contains("收文登记"), "{done}");
    c.set_window_size(390, 844).await.unwrap();
    // The 月通报 on a phone: its tables are stacked, nothing wider than the screen.
    sign_in(&c, &base, "ding.xin").await;
    c.goto(&format!("{base}/bulletin")).await.unwrap();
    assert_eq!(
        sideways(&c).await,
        serde_json::json!([]),
        "月通报 fits a phone"
    );
    shot(&c, "bulletin-390.png").await;
    c.set_window_size(1400, 1000).await.unwrap();

    c.close().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
