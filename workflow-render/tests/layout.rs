//! The issued 公文 checked as pictures (DESIGN §11): each PDF turned into pages by Debian's
//! `pdftoppm` and measured — the red 分隔线's place and width, 22 lines of 正文 on a full
//! page, 页码 on the right of odd pages and the left of even ones, the 版记's rules at the
//! foot of the last page — and rendered twice to the same bytes. The pictures go to
//! `$WORKFLOW_SCREENSHOTS` when set (the book's are taken with `docs/screenshots`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use workflow_render::{FontFiles, Fonts, Issued, Renderer, paragraph};
use workflow_testkit::script::Script;

/// Pixels per millimetre at the resolution the pages are read at (144 dpi).
const DPI: u32 = 144;
const PX_PER_MM: f64 = DPI as f64 / 25.4;

fn renderer() -> &'static Renderer {
    static R: OnceLock<Renderer> = OnceLock::new();
    R.get_or_init(|| match Fonts::load(&FontFiles::debian()) {
        Ok(f) => Renderer::new(f),
        Err(e) => panic!(
            "{e}: scripts/test installs texlive-lang-chinese and fonts-noto-cjk; this test never skips"
        ),
    })
}

/// A page as RGB pixels.
struct Page {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Page {
    fn px(&self, x: usize, y: usize) -> (u8, u8, u8) {
        let i = (y * self.width + x) * 3;
        (self.rgb[i], self.rgb[i + 1], self.rgb[i + 2])
    }
    fn is_red(&self, x: usize, y: usize) -> bool {
        let (r, g, b) = self.px(x, y);
        r > 180 && g < 90 && b < 90
    }
    /// Black ink (not the red of the 红头 and the 分隔线).
    fn is_dark(&self, x: usize, y: usize) -> bool {
        let (r, g, b) = self.px(x, y);
        u32::from(r) + u32::from(g) + u32::from(b) < 300 && !self.is_red(x, y)
    }
    /// Rows (from, to) where `hit` holds for at least `share` of the pixels between the
    /// columns at `left_mm` and `right_mm`.
    fn rows(
        &self,
        left_mm: f64,
        right_mm: f64,
        share: f64,
        hit: impl Fn(usize, usize) -> bool,
    ) -> Vec<usize> {
        let (l, r) = (mm(left_mm), mm(right_mm).min(self.width));
        (0..self.height)
            .filter(|&y| {
                let n = (l..r).filter(|&x| hit(x, y)).count();
                n as f64 >= share * (r - l) as f64
            })
            .collect()
    }
    /// Bands of consecutive rows holding any dark pixel between two columns, within rows
    /// `top_mm..bottom_mm`.
    fn text_bands(&self, top_mm: f64, bottom_mm: f64) -> Vec<(usize, usize)> {
        let mut bands = Vec::new();
        let mut start = None;
        for y in mm(top_mm)..mm(bottom_mm).min(self.height) {
            let inked = (mm(28.0)..mm(184.0)).any(|x| self.is_dark(x, y));
            match (inked, start) {
                (true, None) => start = Some(y),
                (false, Some(s)) => {
                    bands.push((s, y));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            bands.push((s, mm(bottom_mm)));
        }
        bands
    }
    /// Whether any dark pixel lies between the columns and rows given in millimetres.
    fn inked(&self, x0: f64, x1: f64, y0: f64, y1: f64) -> bool {
        (mm(y0)..mm(y1).min(self.height))
            .any(|y| (mm(x0)..mm(x1).min(self.width)).any(|x| self.is_dark(x, y)))
    }
}

fn mm(v: f64) -> usize {
    (v * PX_PER_MM).round() as usize
}

fn to_mm(px: usize) -> f64 {
    px as f64 / PX_PER_MM
}

/// The PDF's pages, read by `pdftoppm`; PNG copies go to the screenshots folder as
/// `<name>-<page>.png`.
fn pages(pdf: &[u8], name: &str) -> Vec<Page> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftoppm")
        .args(["-r", &DPI.to_string()])
        .arg(&file)
        .arg(dir.path().join("p"))
        .output()
        .expect("pdftoppm (Debian's poppler-utils, which scripts/test installs)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ppm"))
        .collect();
    names.sort();
    if let Some(shots) = std::env::var_os("WORKFLOW_SCREENSHOTS") {
        let shots = PathBuf::from(shots);
        std::fs::create_dir_all(&shots).unwrap();
        let png = Command::new("pdftoppm")
            .args(["-png", "-r", "60"])
            .arg(&file)
            .arg(shots.join(name))
            .status()
            .unwrap();
        assert!(png.success());
    }
    names.iter().map(|p| read_ppm(p)).collect()
}

/// A binary PPM (P6) as pdftoppm writes it.
fn read_ppm(path: &Path) -> Page {
    let bytes = std::fs::read(path).unwrap();
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..i]).into_owned());
    }
    assert_eq!(fields[0], "P6");
    let (width, height): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let rgb = bytes[i + 1..].to_vec();
    assert_eq!(rgb.len(), width * height * 3);
    Page { width, height, rgb }
}

/// The fixture's sample 发文, issued, as it prints.
fn sample() -> Issued {
    let mut s = Script::new();
    s.issued();
    let units: Vec<_> = workflow_testkit::directory().units().cloned().collect();
    Issued::with_units(s.doc(), &units).unwrap()
}

fn long_body(paragraphs: usize) -> Vec<workflow_render::Paragraph> {
    (0..paragraphs)
        .map(|i| {
            let text = match i % 6 {
                0 => format!("{}、总体要求。", ["一", "二", "三", "四", "五", "六", "七", "八"][i / 6 % 8]),
                1 => "（一）工作目标。坚持以评促建、以评促改、以评促管、评建结合、重在建设的方针，全面检查本科教学工作状态，进一步明确办学定位。".into(),
                _ => "各学院要高度重视，认真组织，按照评估指标体系逐项对照检查，查找存在的问题和不足，制定切实可行的整改措施，确保各项工作落到实处，并于规定时间内将自评报告和支撑材料报送教务处。".into(),
            };
            paragraph(&text)
        })
        .collect()
}

#[test]
fn the_sample_prints_its_red_header_its_text_and_its_record_on_one_page() {
    let issued = sample();
    assert!(
        issued.number.starts_with("X校发〔2026〕"),
        "{}",
        issued.number
    );
    assert!(
        issued.main_recipients.starts_with("各学院、各部门"),
        "{}",
        issued.main_recipients
    );
    assert!(
        !issued.body.iter().any(|p| p.rest.ends_with('：')),
        "the 主送 line of the body is printed once, as 主送"
    );
    let r = renderer().render(&issued).unwrap();
    assert!(r.pdf.starts_with(b"%PDF-"));
    // The 红头 takes the top third, as GB/T 9704 has it: the 版记 on the next page's foot.
    assert_eq!(r.pages, 2);
    // PDF/A-2b, dated the 印发 date, the fonts named with their digests.
    let text = String::from_utf8_lossy(&r.pdf);
    assert!(
        text.contains("pdfaid:part>2<") || text.contains("pdfaid:part=\"2\""),
        "PDF/A-2"
    );
    for f in &r.fonts {
        assert!(
            text.contains(&f.sha256),
            "the keywords name {} by its digest",
            f.family
        );
    }
    let pages = pages(&r.pdf, "issued-sample");
    let p = &pages[0];
    // One red 分隔线 across the 版心 (156 mm from the 订口 at 28 mm), below the 红头.
    let red = p.rows(28.5, 183.5, 0.97, |x, y| p.is_red(x, y));
    assert!(!red.is_empty(), "a red line across the 版心");
    let (top, bottom) = (to_mm(red[0]), to_mm(*red.last().unwrap()));
    assert!(
        bottom - top < 1.5,
        "one line, not several: {top:.1}–{bottom:.1} mm"
    );
    // 35 mm from the 版心's top to the 标志, the 标志, two lines, the 发文字号, 4 mm.
    assert!(
        (100.0..130.0).contains(&top),
        "the red line at {top:.1} mm from the top"
    );
    let ends_at = (0..p.width).rev().find(|&x| p.is_red(x, red[0])).unwrap();
    assert!(
        (to_mm(ends_at) - 184.0).abs() < 1.0,
        "it ends at the 版心's right edge: {:.1} mm",
        to_mm(ends_at)
    );
    // The 标志's top edge 35 mm into the 版心 (which starts 37 mm down): the first red row.
    let first_red = (mm(37.0)..red[0])
        .find(|&y| (mm(28.0)..mm(184.0)).any(|x| p.is_red(x, y)))
        .unwrap();
    assert!(
        (to_mm(first_red) - 72.0).abs() < 1.0,
        "the 标志 starts {:.1} mm down, not 72",
        to_mm(first_red)
    );
    // The 页码's 一字线 7 mm below the 版心 (262 mm): the row of the dashes' ink.
    let dash_rows: Vec<usize> = (mm(262.0)..mm(285.0))
        .filter(|&y| {
            // A thin rule, grey where it is smoothed: any ink.
            let inked = |x: usize| {
                let (r, g, b) = p.px(x, y);
                u32::from(r) + u32::from(g) + u32::from(b) < 600
            };
            (mm(150.0)..mm(184.0)).filter(|&x| inked(x)).count() > mm(3.0)
        })
        .collect();
    assert!(!dash_rows.is_empty(), "the page number's dashes");
    let dash_at = to_mm(dash_rows[dash_rows.len() / 2]);
    assert!(
        (dash_at - 269.0).abs() < 1.0,
        "the 一字线 at {dash_at:.1} mm, not 269"
    );
    // The 红头 above it is red; the 标题 below it is black, and nothing there is red.
    assert!((0..red[0]).any(|y| (mm(40.0)..mm(170.0)).any(|x| p.is_red(x, y))));
    let below = (red[red.len() - 1] + mm(2.0))..(red[red.len() - 1] + mm(40.0));
    assert!(
        below
            .clone()
            .any(|y| (mm(28.0)..mm(184.0)).any(|x| p.is_dark(x, y))),
        "the 标题 below the line"
    );
    assert!(
        !below
            .into_iter()
            .any(|y| (mm(28.0)..mm(184.0)).any(|x| p.is_red(x, y))),
        "the 标题 is not red"
    );
    // 页码 on the right of an odd page, under the 版心 (which ends 262 mm down).
    assert!(
        p.inked(105.0, 184.0, 264.0, 285.0),
        "the page number on the right"
    );
    assert!(
        !p.inked(28.0, 105.0, 264.0, 285.0),
        "nothing on the left under the 版心"
    );
    // The 版记 at the foot of the last page: its rules (black, across the 版心) just above
    // the 版心's bottom edge (262 mm), none on the first.
    let rules = |p: &Page| p.rows(28.5, 183.5, 0.97, |x, y| p.is_dark(x, y));
    assert!(rules(p).is_empty());
    let last = rules(&pages[1]);
    assert!(
        last.iter().any(|&y| (255.0..263.0).contains(&to_mm(y))),
        "the last rule at the foot: {:?}",
        last.iter().map(|&y| to_mm(y)).collect::<Vec<_>>()
    );
    assert!(last.iter().all(|&y| to_mm(y) > 225.0));
}

#[test]
fn only_a_line_of_recipients_opening_the_text_is_taken_for_the_main_recipients() {
    let mut s = Script::new();
    let mut fields = workflow_testkit::fields();
    fields.body = "为做好考试工作，现将有关事项通知如下：\n一、各学院组织考试。".into();
    s.drafted_with(fields);
    let dir = workflow_testkit::directory();
    let flow = workflow_testkit::full_flow();
    for (actor, action) in &flow[1..workflow_testkit::steps::ISSUED] {
        s.ok(actor.as_str(), action.clone());
    }
    let issued = Issued::with_units(s.doc(), &dir.units().cloned().collect::<Vec<_>>()).unwrap();
    assert_eq!(issued.body.len(), 2, "{:?}", issued.body);
    assert_eq!(
        issued.body[0].rest,
        "为做好考试工作，现将有关事项通知如下："
    );
    // The sample's opening "各学院、各部门：" names recipients only: printed once, as 主送.
    let sample = sample();
    assert!(
        sample
            .body
            .iter()
            .all(|p| !p.rest.starts_with("各学院、各部门"))
    );
}

#[test]
fn a_title_is_broken_into_even_lines() {
    use workflow_render::title_lines;
    let lines = title_lines("关于做好2026年秋季学期期末考试工作的通知", 19);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines.concat(), "关于做好2026年秋季学期期末考试工作的通知");
    // Even by width, the digits counting half, as far as whole words allow (one
    // two-character word either way).
    let width = |l: &str| {
        l.chars()
            .map(|c| if c.is_ascii() { 1 } else { 2 })
            .sum::<usize>()
    };
    assert!(
        width(&lines[0]).abs_diff(width(&lines[1])) <= 4,
        "{lines:?}"
    );
    // A run of digits is never broken across lines.
    for max in 3..12 {
        let lines = title_lines("关于2026年度工作安排的通知", max);
        assert!(lines.iter().any(|l| l.contains("2026")), "{max}: {lines:?}");
    }
    assert_eq!(
        title_lines("关于印发通知", 19),
        vec!["关于印发通知".to_owned()]
    );
    // Words stay whole (词意完整): an even split by width would cut 审核 and 评估 here.
    for max in 8..19 {
        let title = "关于开展学校本科教育教学审核评估自评自建工作的通知";
        let lines = title_lines(title, max);
        assert_eq!(lines.concat(), title);
        for (end, start) in lines.iter().zip(lines.iter().skip(1)) {
            for word in [
                "审核", "评估", "本科", "教育", "教学", "工作", "通知", "开展", "学校",
            ] {
                let cut = (1..word.chars().count()).any(|k| {
                    let (a, b): (String, String) = (
                        word.chars().take(k).collect(),
                        word.chars().skip(k).collect(),
                    );
                    end.ends_with(&a) && start.starts_with(&b)
                });
                assert!(!cut, "{max}: {word} cut in {lines:?}");
            }
        }
    }
    // No line begins with a closing mark or ends with an opening one.
    for max in 6..19 {
        let lines = title_lines("关于印发《学校公文处理办法（试行）》的通知", max);
        for l in &lines {
            assert!(
                !l.starts_with(['》', '）', '，']) && !l.ends_with(['《', '（']),
                "{max}: {lines:?}"
            );
        }
    }
}

#[test]
fn the_same_record_gives_the_same_bytes() {
    let issued = sample();
    let a = renderer().render(&issued).unwrap();
    let b = renderer().render(&issued).unwrap();
    assert_eq!(a.pdf, b.pdf);
    // Another 印发 date is another document.
    let mut later = issued.clone();
    later.issued_on = later.issued_on.succ_opt().unwrap();
    assert_ne!(renderer().render(&later).unwrap().sha256, a.sha256);
}

#[test]
fn a_long_text_runs_22_lines_a_page_with_page_numbers_on_alternating_sides() {
    let mut issued = sample();
    issued.body = long_body(40);
    let r = renderer().render(&issued).unwrap();
    assert!(r.pages >= 3, "{} pages", r.pages);
    let pages = pages(&r.pdf, "issued-long");
    // A page in the middle is all 正文: 22 lines in the 版心 (37–262 mm).
    let middle = &pages[1];
    let lines = middle.text_bands(37.0, 262.0);
    assert_eq!(lines.len(), 22, "lines on a full page: {lines:?}");
    let pitch = (to_mm(lines[21].0) - to_mm(lines[0].0)) / 21.0;
    assert!(
        (pitch - 225.0 / 22.0).abs() < 0.3,
        "a line every {pitch:.2} mm"
    );
    // 页码: odd pages right, even pages left.
    for (i, p) in pages.iter().enumerate() {
        let right = p.inked(105.0, 184.0, 264.0, 285.0);
        let left = p.inked(26.0, 105.0, 264.0, 285.0);
        if i % 2 == 0 {
            assert!(right && !left, "page {} (odd): number on the right", i + 1);
        } else {
            assert!(left && !right, "page {} (even): number on the left", i + 1);
        }
    }
    // The 版记 only on the last page.
    let has_rules = |p: &Page| {
        p.rows(28.5, 183.5, 0.97, |x, y| p.is_dark(x, y))
            .iter()
            .any(|&y| to_mm(y) > 200.0)
    };
    assert!(has_rules(pages.last().unwrap()));
    assert!(!pages[..pages.len() - 1].iter().any(has_rules));
}

#[test]
fn an_upward_request_names_its_signer_and_a_classified_urgent_one_its_marks() {
    let mut issued = sample();
    issued.signers = vec!["林志远".into()];
    issued.marks = vec!["秘密★1年".into(), "特急".into()];
    issued.main_recipients = "省教育厅".into();
    let r = renderer().render(&issued).unwrap();
    let pages = pages(&r.pdf, "issued-request");
    let p = &pages[0];
    let red = p.rows(28.5, 183.5, 0.97, |x, y| p.is_red(x, y));
    let line_at = to_mm(red[0]);
    // 发文字号 left and 签发人 right, on one line just above the red line.
    assert!(
        p.inked(28.0, 90.0, line_at - 12.0, line_at - 1.0),
        "发文字号 on the left"
    );
    assert!(
        p.inked(130.0, 184.0, line_at - 12.0, line_at - 1.0),
        "签发人 on the right"
    );
    // The marks at the top left, above the 红头.
    assert!(p.inked(28.0, 70.0, 37.0, 48.0), "密级 at the top left");
    assert!(
        !p.inked(120.0, 184.0, 37.0, 48.0),
        "nothing at the top right"
    );
    // Three signers: two names a line, the 发文字号 level with the second line.
    let mut three = issued.clone();
    three.signers = vec!["林志远".into(), "王建华".into(), "李明".into()];
    let r = renderer().render(&three).unwrap();
    let p = &self::pages(&r.pdf, "issued-request-signers")[0];
    let red = p.rows(28.5, 183.5, 0.97, |x, y| p.is_red(x, y));
    let line_at = to_mm(red[0]);
    let ink_rows = |x0: f64, x1: f64| -> Vec<f64> {
        (mm(line_at - 25.0)..mm(line_at - 1.0))
            .filter(|&y| (mm(x0)..mm(x1)).any(|x| p.is_dark(x, y)))
            .map(to_mm)
            .collect()
    };
    let number = ink_rows(28.0, 90.0);
    let signers = ink_rows(120.0, 184.0);
    let (n_top, n_bottom) = (number[0], *number.last().unwrap());
    let (s_top, s_bottom) = (signers[0], *signers.last().unwrap());
    assert!(
        s_bottom - s_top > 9.0,
        "two lines of names: {s_top}..{s_bottom}"
    );
    assert!(
        (n_bottom - s_bottom).abs() < 1.5 && n_top > s_top + 5.0,
        "发文字号 {n_top}..{n_bottom} level with the last names {s_top}..{s_bottom}"
    );
    // Without them the top left is empty and the 发文字号 centred.
    let mut unmarked = sample();
    unmarked.marks.clear();
    let plain = renderer().render(&unmarked).unwrap();
    let plain_pages = self::pages(&plain.pdf, "issued-plain");
    let pp = &plain_pages[0];
    assert!(!pp.inked(28.0, 70.0, 37.0, 46.0));
    let red = pp.rows(28.5, 183.5, 0.97, |x, y| pp.is_red(x, y));
    let (top, bottom) = (red[0] - mm(12.0), red[0] - mm(1.0));
    let inked_x: Vec<usize> = (mm(28.0)..mm(184.0))
        .filter(|&x| (top..bottom).any(|y| pp.is_dark(x, y)))
        .collect();
    let middle = to_mm((inked_x[0] + inked_x[inked_x.len() - 1]) / 2);
    assert!(
        (middle - 106.0).abs() < 3.0,
        "the 发文字号 centred on the 版心 (106 mm): its middle at {middle:.1} mm"
    );
}

#[test]
fn a_joint_document_stacks_its_issuers() {
    let mut issued = sample();
    issued.issuer_units = vec!["中共某某大学委员会".into(), "某某大学".into()];
    let r = renderer().render(&issued).unwrap();
    let p = &pages(&r.pdf, "issued-joint")[0];
    let red = p.rows(28.5, 183.5, 0.97, |x, y| p.is_red(x, y));
    // Two lines of red 标志 above the line: red rows in two bands.
    let mut bands = 0;
    let mut inside = false;
    for y in mm(37.0)..red[0].saturating_sub(mm(14.0)) {
        // The units' names, left of 文件.
        let any = (mm(28.0)..mm(110.0)).any(|x| p.is_red(x, y));
        if any && !inside {
            bands += 1;
        }
        inside = any;
    }
    assert!(bands >= 2, "the 标志 stacks the two units ({bands} bands)");
}

/// A record written out in full here, so that nothing but the layout (and the fonts) can
/// change what it prints.
fn golden_record() -> Issued {
    let issued_on = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    Issued {
        document_id: "00000000-0000-0000-0000-000000009704".into(),
        title: "关于开展2026年本科教育教学审核评估自评自建工作的通知".into(),
        issuer_units: vec!["某某大学".into()],
        number: "某大发〔2026〕15号".into(),
        signers: Vec::new(),
        marks: vec!["特急".into()],
        main_recipients: "各学院、各部门".into(),
        body: [
            "为做好本科教育教学审核评估工作，现就自评自建工作通知如下。",
            "一、工作目标。以评促建、以评促改、以评促管、评建结合、重在建设。",
            "（一）组织领导。学校成立审核评估工作领导小组。",
            "各学院要高度重视，认真组织，按时报送自评报告。",
        ]
        .into_iter()
        .map(paragraph)
        .collect(),
        attachments: vec!["1.自评工作安排".into(), "2.自评报告提纲".into()],
        written_date: workflow_render::chinese_date(issued_on),
        annotation: None,
        cc: "教育厅高教处，学校各位领导，纪委办公室，审计处，档案馆，图书馆，校友会，工会，团委，研究生院".into(),
        printer: "某某大学办公室".into(),
        issued_on,
    }
}

/// The fonts the golden digest was taken with: Debian 12's texlive-lang-chinese (Fandol)
/// and fonts-noto-cjk.
const GOLDEN_FONTS: [&str; 5] = [
    "仿宋 FandolFang R sha256:d838ad32ce2244d8144f408c37fe71065aba6fbbc80759a4d2aa2033948d5bc9",
    "楷体 FandolKai sha256:ea7e7fb4f9b3ac694a68d43946e04d21deed6e8c29a7c2d3081e1a4138f2f827",
    "黑体 Noto Sans CJK SC sha256:b76b0433203017ca80401b2ee0dd69350349871c4b19d504c34dbdd80541690a",
    "小标宋 Noto Serif CJK SC sha256:a5d4b046c127da3d7c72f98b46c41489cd29bf52abfdf18aba920903e920d4ac",
    "宋体 FandolSong sha256:a3820003227d4abe31fe28b493200d94a849ccfd078b50a019264f70353020b0",
];

/// What the golden record prints to with layout `LAYOUT` and those fonts.
const GOLDEN_PDF: &str = "26aca0e1d125e16db8a52ec53dee8d2d76769036fa5a61fec12efd7b571b1b5e";

#[test]
fn the_golden_record_prints_to_the_digest_of_its_layout() {
    let fonts: Vec<String> = renderer()
        .fonts()
        .iter()
        .map(workflow_render::FontUsed::keyword)
        .collect();
    assert_eq!(
        fonts, GOLDEN_FONTS,
        "the font files are not those the golden digest was taken with (a Debian update?): \
         the digest below cannot be compared; documents printed with the old fonts will be \
         reported by verify as printed with other fonts"
    );
    let r = renderer().render(&golden_record()).unwrap();
    let pages = pages(&r.pdf, "issued-golden");
    // Its 抄送 runs to a second line, which starts under the first name, not under 抄送.
    let last = pages.last().unwrap();
    // The 署名 did not fit on the first page: the 附件说明 came with it, so that it is not
    // on a page of its own (at the top left of the last page, the 署名 being right).
    assert_eq!(pages.len(), 2);
    assert!(
        last.inked(28.0, 100.0, 37.0, 55.0),
        "the 附件说明 went over with the 署名 (not the 署名 alone on the last page)"
    );
    let rules = last.rows(28.5, 183.5, 0.9, |x, y| last.is_dark(x, y));
    let (top, bottom) = (to_mm(rules[0]), to_mm(*rules.last().unwrap()));
    let bands: Vec<(f64, f64)> = last
        .text_bands(top + 1.0, bottom - 1.0)
        .into_iter()
        .map(|(a, b)| (to_mm(a), to_mm(b)))
        .filter(|(a, b)| b - a > 2.0)
        .collect();
    assert!(bands.len() >= 3, "抄送 on two lines, then 印发: {bands:?}");
    let left_edge = |(y0, y1): (f64, f64)| {
        (mm(28.0)..mm(184.0))
            .find(|&x| (mm(y0)..mm(y1)).any(|y| last.is_dark(x, y)))
            .map(to_mm)
            .unwrap()
    };
    let (first, second) = (left_edge(bands[0]), left_edge(bands[1]));
    assert!(
        second > first + 2.0 * 4.9,
        "the second line of 抄送 starts at {second} mm, under the first name (the first line at {first} mm)"
    );
    assert_eq!(
        r.sha256,
        GOLDEN_PDF,
        "layout {} prints the golden record otherwise than it did: a 公文 printed with it by \
         an earlier build would no longer be printed again the same, and verify would report \
         it. Give the layout a new number (workflow_render::LAYOUT), keep the old one for \
         the documents printed with it, then pin the new digest here",
        workflow_render::LAYOUT
    );
}

#[test]
fn a_printed_copy_names_its_layout_and_fonts_and_is_checked_against_its_record() {
    use workflow_render::{LAYOUT, Reprint, printed_with};
    let issued = golden_record();
    let r = renderer().render(&issued).unwrap();
    let with = printed_with(&r.pdf).expect("our PDFs name their layout and fonts");
    assert_eq!(with.layout, Some(LAYOUT));
    let fonts: Vec<String> = r
        .fonts
        .iter()
        .map(workflow_render::FontUsed::keyword)
        .collect();
    assert_eq!(with.fonts, fonts);
    assert_eq!(renderer().check(&issued, &r.pdf).unwrap(), Reprint::Same);
    // The kept copy of another record: the same layout and fonts print this one otherwise.
    let mut other = issued.clone();
    other.number = "某大发〔2026〕16号".into();
    match renderer().check(&other, &r.pdf).unwrap() {
        Reprint::Differs(why) => assert!(why.contains(&r.sha256), "{why}"),
        c => panic!("{c:?}"),
    }
    let replaced = |from: &str, to: &str| -> Vec<u8> {
        // Every copy (the document information and the XMP metadata).
        assert_eq!(from.len(), to.len());
        let mut pdf = r.pdf.clone();
        let mut found = 0;
        for at in 0..pdf.len() - from.len() {
            if &pdf[at..at + from.len()] == from.as_bytes() {
                pdf[at..at + to.len()].copy_from_slice(to.as_bytes());
                found += 1;
            }
        }
        assert!(found > 0, "{from} is in the PDF");
        pdf
    };
    // Printed by a newer layout, or with other fonts: it cannot tell, and says why.
    let newer = replaced(&format!("workflow-layout {LAYOUT}"), "workflow-layout 9");
    match renderer().check(&issued, &newer).unwrap() {
        Reprint::CannotTell(why) => assert!(why.contains("newer than this build"), "{why}"),
        c => panic!("{c:?}"),
    }
    let font = &r.fonts[0].sha256;
    let other_font = replaced(font, &"0".repeat(font.len()));
    match renderer().check(&issued, &other_font).unwrap() {
        Reprint::CannotTell(why) => assert!(
            why.contains("fonts this machine does not have") && why.contains(&"0".repeat(64)),
            "{why}"
        ),
        c => panic!("{c:?}"),
    }
    // A PDF this software did not print names nothing.
    let foreign = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/files/self-assessment-plan.pdf"),
    )
    .unwrap();
    assert!(printed_with(&foreign).is_none());
    match renderer().check(&issued, &foreign).unwrap() {
        Reprint::CannotTell(why) => assert!(why.contains("not printed by this software"), "{why}"),
        c => panic!("{c:?}"),
    }
}

#[test]
fn the_printing_office_is_the_same_whatever_order_the_directory_comes_in() {
    let mut s = Script::new();
    s.issued();
    let mut units: Vec<_> = workflow_testkit::directory().units().cloned().collect();
    // Two general offices (党委办公室 and 校长办公室, say).
    for u in units.iter_mut().take(2) {
        u.office = true;
    }
    let first = units.iter().take(2).map(|u| u.code.clone()).min().unwrap();
    let want = units.iter().find(|u| u.code == first).unwrap().name.clone();
    let forward = Issued::with_units(s.doc(), &units).unwrap();
    units.reverse();
    let backward = Issued::with_units(s.doc(), &units).unwrap();
    assert_eq!(forward.printer, want);
    assert_eq!(backward, forward);
    // No directory to name a 印发机关 from: refused, not printed blank.
    let e = Issued::with_units(s.doc(), &[]).unwrap_err().to_string();
    assert!(e.contains("no 印发机关"), "{e}");
}

/// The words of a PDF as `pdftotext -layout` reads them.
fn words_of(pdf: &[u8], name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("workflow-render-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils, which scripts/test installs)");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without the spaces the layout's letter spacing puts between characters.
    String::from_utf8(out.stdout).unwrap().replace(' ', "")
}

#[test]
fn a_unit_issues_under_its_configured_name_and_the_annotation_is_printed_under_the_date() {
    let mut s = Script::new();
    let mut fields = workflow_testkit::fields();
    fields.annotation = Some("（此件公开发布）".into());
    s.drafted_with(fields);
    for (actor, action) in &workflow_testkit::full_flow()[1..workflow_testkit::steps::ISSUED] {
        s.ok(actor.as_str(), action.clone());
    }
    // Recorded without the parentheses the 公文 prints it in.
    assert_eq!(s.doc().fields().annotation.as_deref(), Some("此件公开发布"));
    // The fixture's 校长办公室 issues the school's documents as X大学; without that name
    // configured, a unit issues under its own.
    let mut units: Vec<_> = workflow_testkit::directory().units().cloned().collect();
    let issued = Issued::with_units(s.doc(), &units).unwrap();
    assert_eq!(issued.issuer_units, ["X大学"]);
    assert_eq!(issued.printer, "校长办公室", "the office still prints it");
    let office = units.iter_mut().find(|u| u.code.as_str() == "XB").unwrap();
    assert_eq!(office.issuing_name.take().as_deref(), Some("X大学"));
    let mut plain = Issued::with_units(s.doc(), &units).unwrap();
    assert_eq!(plain.issuer_units, ["校长办公室"]);
    plain.annotation = None;

    let text = words_of(&renderer().render(&issued).unwrap().pdf, "annotation");
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(lines[..3].contains(&"X大学文件"), "{text}");
    let date = lines
        .iter()
        .position(|l| l.ends_with(&issued.written_date))
        .unwrap_or_else(|| panic!("the 成文日期 {}: {text}", issued.written_date));
    let above = lines[date - 1].trim_start_matches("（印章位置）");
    let above = if above.is_empty() {
        lines[date - 2]
    } else {
        above
    };
    assert_eq!(above, "X大学", "the 署名 above the date: {text}");
    assert_eq!(lines[date + 1], "（此件公开发布）", "{text}");
    assert!(!text.contains("校长办公室文件"), "{text}");
    // Without a 附注 nothing is printed there; without the name, the unit's own.
    let none = words_of(&renderer().render(&plain).unwrap().pdf, "no-annotation");
    assert!(!none.contains("（此件"), "{none}");
    assert!(none.contains("校长办公室文件"), "{none}");
}
