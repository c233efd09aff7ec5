//! 四性检测 of one archive package, as the archives that receives it checks it (DA/T 70's
//! checks at 移交与接收): the package is read from its directory alone — its manifest,
//! events, `document.json` and `eep.xml` — without the store it came from.
//!
//! | aspect | check |
//! |---|---|
//! | 真实性 | 固化信息有效性: every event hashes to its recorded hash; the fixity digests agree; the events are those `eep.xml` names (业务标识符, 事件哈希) |
//! | 真实性 | 内容数据的电子属性一致性: each file at its 存储位置 has the SHA-256 of the manifest and the SHA-256 and SM3 摘要 of `eep.xml` |
//! | 真实性 | 元数据项格式与值域: 档号, 题名, 文号 in their 值域; `document.json` the fold of the events; `eep.xml` names the same 题名, 档号 (and each of its parts), 文件编号, 密级, gives a 责任者, and dates the 办理过程's acts in order (a minute's clock skew between servers tolerated) |
//! | 真实性 | 电子签名有效性: each SM2 signature of `eep.xml` verifies over its 被签名对象 (under the trusted key, when given) |
//! | 完整性 | 必要元素完整性: the package's files, and the elements of `eep.xml` DA/T 48 asks for, one 业务实体 per event |
//! | 完整性 | 过程信息完整性: the 办理过程 from creation, versions 1, 2, 3 …, ending filed |
//! | 完整性 | 内容数据完整性: the record has its content; every file it names is in the package |
//! | 可用性 | 内容数据格式, 可读性 and 软硬件环境记录, as for the store |
//! | 安全性 | 封装包未被改动: the package's own files as the manifest lists them; nothing in the directory the manifest does not list; no path leading out of it |

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{
    ArchiveCheck, Aspect, format_problem, item, metadata_problems, printed_of, unreadable,
    unrecorded_environment,
};
use crate::eep::{EEP_FILE, SM2_SM3_OID};
use crate::error::Result;
use crate::export::{OpenedPackage, PackageFault, PackageProblem, inside_package, open_package};

/// An element of `eep.xml`: its path from the root (`a/b/c`), its attributes, its text.
struct Element {
    path: String,
    attributes: Vec<(String, String)>,
    text: String,
}

/// Every element of `xml`, in document order.
fn elements(xml: &[u8]) -> std::result::Result<Vec<Element>, String> {
    let mut reader = Reader::from_reader(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut out: Vec<Element> = Vec::new();
    let mut buf = Vec::new();
    let name = |n: &[u8]| String::from_utf8_lossy(n).into_owned();
    // Text goes to the element open at the top of the stack.
    let append = |out: &mut Vec<Element>, stack: &[String], text: &str| {
        if let Some(last) = out.iter_mut().rev().find(|e| e.path == stack.join("/")) {
            last.text.push_str(text);
        }
    };
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("XML 在第 {at} 字节处无法解析：{e}"))?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                stack.push(name(e.name().as_ref()));
                let mut attributes = Vec::new();
                for a in e.attributes() {
                    let a = a.map_err(|e| format!("XML 属性无法解析：{e}"))?;
                    let value = a
                        .unescape_value()
                        .map_err(|e| format!("XML 属性无法解析：{e}"))?;
                    attributes.push((name(a.key.as_ref()), value.into_owned()));
                }
                out.push(Element {
                    path: stack.join("/"),
                    attributes,
                    text: String::new(),
                });
                if empty {
                    stack.pop();
                }
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| format!("XML 文本无法解析：{e}"))?;
                append(&mut out, &stack, &text);
            }
            Event::CData(t) => {
                let text = t.decode().map_err(|e| format!("XML 文本无法解析：{e}"))?;
                append(&mut out, &stack, &text);
            }
            Event::GeneralRef(r) => {
                let text = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => {
                        let entity = r.decode().map_err(|e| format!("XML 实体无法解析：{e}"))?;
                        quick_xml::escape::resolve_predefined_entity(&entity)
                            .ok_or_else(|| format!("XML 实体 &{entity}; 未定义"))?
                            .to_owned()
                    }
                };
                append(&mut out, &stack, &text);
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

/// The bytes of the `被签名对象` element exactly as written.
fn signed_bytes(xml: &[u8]) -> Option<&[u8]> {
    let open = "<被签名对象".as_bytes();
    let close = "</被签名对象>".as_bytes();
    let start = xml.windows(open.len()).position(|w| w == open)?;
    let end = xml.windows(close.len()).rposition(|w| w == close)? + close.len();
    (start < end).then(|| &xml[start..end])
}

/// One `电子签名` of `eep.xml`.
#[derive(Default)]
struct Signature {
    signer: String,
    result: String,
    key: String,
    algorithm: String,
}

const ROOT: &str = "电子文件封装包";
const SIGNED: &str = "电子文件封装包/被签名对象";
const ENTITY: &str = "电子文件封装包/被签名对象/封装内容/文件实体块/文件实体";

/// The elements DA/T 48 asks of a package, below the root.
const REQUIRED: [&str; 12] = [
    "电子文件封装包/封装包格式描述",
    "电子文件封装包/版本",
    SIGNED,
    "电子文件封装包/被签名对象/封装包类型",
    "电子文件封装包/被签名对象/封装包创建时间",
    "电子文件封装包/被签名对象/封装内容",
    "电子文件封装包/被签名对象/封装内容/文件实体块",
    ENTITY,
    "电子文件封装包/被签名对象/封装内容/文件实体块/文件实体/电子文件号",
    "电子文件封装包/被签名对象/封装内容/文件实体块/文件实体/内容描述/题名",
    "电子文件封装包/被签名对象/封装内容/业务实体块",
    "电子文件封装包/被签名对象/封装内容/机构人员实体块",
];

/// The Chinese lead of a package problem's sentence.
fn lead(p: &PackageProblem) -> String {
    let what = match p.fault {
        PackageFault::Format => "封装包格式无法识别",
        PackageFault::Unreadable => "缺失或无法读取",
        PackageFault::Altered => "摘要与清单不符",
        PackageFault::Fixity => "固化信息不符",
        PackageFault::Process => "办理过程不连续",
        PackageFault::State => "元数据与办理过程不一致",
        PackageFault::Path => "路径越出封装包",
    };
    format!("{what}：{}", p.text)
}

/// Every file below `dir`, as paths relative to it with `/` between parts.
fn files_below(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                todo.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The 四性检测 of the archive package in `dir` (see the module's docs). With `trusted`
/// (an SM2 public key, SEC1) every signature must be by that key; without it a signature is
/// checked under the key the package names, which proves the package unchanged since it was
/// signed but not who signed it — the report says so. Fails only when `dir` holds no
/// manifest to read.
pub fn check_package(dir: &Path, trusted: Option<&[u8]>) -> Result<ArchiveCheck> {
    let OpenedPackage {
        manifest,
        events,
        state,
        report,
    } = open_package(dir)?;
    // The record's own files (only those inside the package are ever read).
    let content: HashMap<&str, &str> = manifest
        .files
        .iter()
        .filter(|f| inside_package(&f.path))
        .filter_map(|f| Some((f.path.as_str(), f.name.as_deref()?)))
        .collect();
    let is_content =
        |p: &PackageProblem| p.file.as_deref().is_some_and(|f| content.contains_key(f));
    let faults = |fault: PackageFault, of_content: bool| -> Vec<String> {
        report
            .problems
            .iter()
            .filter(|p| p.fault == fault && is_content(p) == of_content)
            .map(lead)
            .collect()
    };
    let id = manifest.document_id;
    // Each of them read once, for its SM3 and for whether it opens (one that cannot be read
    // is said under 内容数据完整性).
    let bytes_of: BTreeMap<&str, Vec<u8>> = content
        .keys()
        .filter_map(|path| Some((*path, std::fs::read(dir.join(path)).ok()?)))
        .collect();

    // eep.xml, read once.
    let eep_listed = manifest.files.iter().any(|f| f.path == EEP_FILE);
    let eep_raw = std::fs::read(dir.join(EEP_FILE));
    let mut elements_problems = Vec::new();
    let eep: Vec<Element> = match &eep_raw {
        Ok(raw) => elements(raw).unwrap_or_else(|why| {
            elements_problems.push(format!("{EEP_FILE}：{why}"));
            Vec::new()
        }),
        Err(_) if eep_listed => Vec::new(), // said by the manifest's file check
        Err(e) => {
            elements_problems.push(format!("封装包无 {EEP_FILE}（DA/T 48 的封装记录）：{e}"));
            Vec::new()
        }
    };
    let find = |path: &str| eep.iter().find(|e| e.path == path);
    let all = |path: String| eep.iter().filter(move |e| e.path == path);

    let mut items = Vec::new();

    // 真实性.
    let mut fixity = faults(PackageFault::Fixity, false);
    // eep.xml names each event by its id and hash (under the signature, when signed): the
    // events as stored must be those.
    if !eep.is_empty() {
        let business = format!("{SIGNED}/封装内容/业务实体块/业务实体");
        let named: Vec<&Element> = all(format!("{business}/业务标识符")).collect();
        let hashes: Vec<&Element> = all(format!("{business}/事件哈希")).collect();
        for (n, e) in events.iter().enumerate() {
            let id = named.get(n).map(|x| x.text.trim());
            let hash = hashes.get(n).map(|x| x.text.trim());
            if id != Some(e.event_id.to_string().as_str())
                || (!hashes.is_empty() && hash != Some(e.hash.as_str()))
            {
                fixity.push(format!(
                    "events.jsonl 第 {} 条（版本 {}）与 {EEP_FILE} 第 {} 个业务实体所记的业务标识符或事件哈希不符",
                    n + 1,
                    e.version,
                    n + 1
                ));
            }
        }
    }
    items.push(item(
        Aspect::Authenticity,
        "authenticity.fixity",
        "固化信息有效性（事件哈希、固化摘要与封装记录一致）",
        events.len() as u64,
        fixity,
    ));
    let mut digests = faults(PackageFault::Altered, true);
    // The SM3 摘要 eep.xml gives each file, taken again from the file's bytes.
    let documents = format!("{ENTITY}/文件数据/文档/文档数据/编码");
    let locations: Vec<&Element> = all(format!("{documents}/存储位置")).collect();
    let sm3s: Vec<&Element> = all(format!("{documents}/摘要"))
        .filter(|e| e.attributes.iter().any(|(k, v)| k == "算法" && v == "SM3"))
        .collect();
    if !eep.is_empty() && sm3s.len() != locations.len() {
        digests.push(format!(
            "{EEP_FILE} 列出 {} 个文档，而 SM3 摘要 {} 个",
            locations.len(),
            sm3s.len()
        ));
    }
    let mut escaping = Vec::new();
    for (at, sm3) in locations.iter().zip(&sm3s) {
        if !inside_package(&at.text) {
            escaping.push(format!(
                "{EEP_FILE} 的存储位置 {:?} 越出封装包：未读取",
                at.text
            ));
            continue;
        }
        // A location outside the manifest is said under 必要元素完整性.
        if let Some(bytes) = bytes_of.get(at.text.as_str()) {
            let got = crate::sign::sm3_hex(bytes);
            if got != sm3.text.trim() {
                digests.push(format!(
                    "{}：SM3 摘要 {got} 与 {EEP_FILE} 所记 {} 不符",
                    at.text,
                    sm3.text.trim()
                ));
            }
        }
    }
    items.push(item(
        Aspect::Authenticity,
        "authenticity.content_digests",
        "内容数据的电子属性一致性（文件的 SHA-256 与 SM3 摘要）",
        content.len() as u64,
        digests,
    ));
    let mut metadata = faults(PackageFault::Format, false);
    metadata.extend(faults(PackageFault::State, false));
    if let Some(state) = &state {
        metadata.extend(metadata_problems(id, state));
        if !eep.is_empty() {
            let title = find(&format!("{ENTITY}/内容描述/题名")).map(|e| e.text.as_str());
            if title != Some(state.title()) {
                metadata.push(format!(
                    "{EEP_FILE} 的题名 {:?} 与记录的 {:?} 不一致",
                    title.unwrap_or(""),
                    state.title()
                ));
            }
            let p = state.particulars();
            let number = find(&format!("{ENTITY}/内容描述/文件编号")).map(|e| e.text.clone());
            if number != p.number {
                metadata.push(format!(
                    "{EEP_FILE} 的文件编号 {:?} 与记录的 {:?} 不一致",
                    number.unwrap_or_default(),
                    p.number.unwrap_or_default()
                ));
            }
            let reference = find(&format!("{ENTITY}/档号")).and_then(|e| {
                e.attributes
                    .iter()
                    .find(|(k, _)| k == "档号")
                    .map(|(_, v)| v.clone())
            });
            let recorded = p.archive.map(|a| a.reference.to_string());
            if reference != recorded {
                metadata.push(format!(
                    "{EEP_FILE} 的档号 {:?} 与记录的 {:?} 不一致",
                    reference.unwrap_or_default(),
                    recorded.unwrap_or_default()
                ));
            }
            metadata.extend(element_values(&find, state, p.archive));
            metadata.extend(acts_in_order(&eep));
        }
    }
    items.push(item(
        Aspect::Authenticity,
        "authenticity.metadata",
        "元数据项格式与值域（档号及其各项、题名、文号、密级、责任者、行为时间；元数据与办理过程、封装记录一致）",
        u64::from(state.is_some()),
        metadata,
    ));
    // Signatures.
    let mut signatures: Vec<Signature> = Vec::new();
    let signature_path = format!("{ROOT}/电子签名块/电子签名");
    for e in &eep {
        if e.path == signature_path {
            signatures.push(Signature::default());
        }
        let Some(s) = signatures.last_mut() else {
            continue;
        };
        match e.path.strip_prefix(&signature_path) {
            Some("/签名人") => s.signer = e.text.trim().to_owned(),
            Some("/签名结果") => s.result = e.text.trim().to_owned(),
            Some("/证书块/证书") => s.key = e.text.trim().to_owned(),
            Some("/签名算法标识") => s.algorithm = e.text.trim().to_owned(),
            _ => {}
        }
    }
    let mut signature_problems = Vec::new();
    let mut signature_notes = Vec::new();
    let signed = eep_raw.as_deref().ok().and_then(signed_bytes);
    for (n, s) in signatures.iter().enumerate() {
        let n = n + 1;
        let checked = (|| -> std::result::Result<String, String> {
            if s.algorithm != SM2_SM3_OID {
                return Err(format!(
                    "签名算法 {:?} 不是 SM2（{SM2_SM3_OID}）",
                    s.algorithm
                ));
            }
            let key = hex::decode(&s.key).map_err(|_| "证书不是十六进制公钥".to_owned())?;
            if let Some(trusted) = trusted
                && trusted != key.as_slice()
            {
                return Err(format!(
                    "由公钥 {} 签名，不是可信公钥 {}",
                    crate::sign::key_fingerprint(&key),
                    crate::sign::key_fingerprint(trusted)
                ));
            }
            let value =
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &s.result)
                    .map_err(|_| "签名结果不是 Base64".to_owned())?;
            let message = signed.ok_or("找不到被签名对象".to_owned())?;
            crate::sign::verify_sm2(&s.signer, &key, message, &value)
                .map_err(|e| format!("签名无效：{e}"))?;
            Ok(crate::sign::key_fingerprint(&key))
        })();
        match checked {
            Ok(fingerprint) if trusted.is_some() => signature_notes.push(format!(
                "第 {n} 个签名（{}）以可信公钥 {fingerprint} 核验通过",
                s.signer
            )),
            Ok(fingerprint) => signature_notes.push(format!(
                "第 {n} 个签名（{}）以封装包所附公钥 {fingerprint} 核验通过；未给出可信公钥，签名人身份未核验",
                s.signer
            )),
            Err(why) => signature_problems.push(format!("第 {n} 个签名（{}）：{why}", s.signer)),
        }
    }
    if signatures.is_empty() {
        if trusted.is_some() {
            signature_problems.push(format!("{EEP_FILE} 没有电子签名，而要求以可信公钥核验"));
        } else {
            signature_notes.push("封装包未签名（未核验电子签名）".into());
        }
    }
    let mut signature_item = item(
        Aspect::Authenticity,
        "authenticity.signature",
        "电子签名有效性（SM2 签名核验）",
        signatures.len() as u64,
        signature_problems,
    );
    if signature_item.passed {
        signature_item.findings = signature_notes;
    }
    items.push(signature_item);

    // 完整性.
    elements_problems.extend(faults(PackageFault::Unreadable, false));
    if !eep_listed && eep_raw.is_ok() {
        elements_problems.push(format!("{EEP_FILE} 不在清单（manifest.json）中"));
    }
    if !eep.is_empty() {
        if eep.first().is_none_or(|e| e.path != ROOT) {
            elements_problems.push(format!("{EEP_FILE} 的根元素不是“{ROOT}”"));
        }
        for path in REQUIRED {
            if find(path).is_none() {
                let name = path.rsplit('/').next().unwrap_or(path);
                elements_problems.push(format!("{EEP_FILE} 缺必要元素“{name}”（{path}）"));
            }
        }
        if state
            .as_ref()
            .is_some_and(|s| s.particulars().archive.is_some())
            && find(&format!("{ENTITY}/档号")).is_none()
        {
            elements_problems.push(format!("{EEP_FILE} 缺必要元素“档号”"));
        }
        let business = all(format!("{SIGNED}/封装内容/业务实体块/业务实体")).count();
        if business != events.len() {
            elements_problems.push(format!(
                "{EEP_FILE} 有业务实体 {business} 个，办理过程有事件 {} 条",
                events.len()
            ));
        }
        let listed: HashSet<&str> = locations.iter().map(|e| e.text.as_str()).collect();
        for path in content.keys() {
            if !listed.contains(path) {
                elements_problems.push(format!("{EEP_FILE} 未列出文件 {path}"));
            }
        }
        for path in &listed {
            if !content.contains_key(path) {
                elements_problems.push(format!("{EEP_FILE} 列出的 {path} 不在清单中"));
            }
        }
    }
    items.push(item(
        Aspect::Integrity,
        "integrity.elements",
        "必要元素完整性（封装包文件与 DA/T 48 封装记录的各块）",
        (manifest.files.len() + REQUIRED.len()) as u64,
        elements_problems,
    ));
    let mut process = faults(PackageFault::Process, false);
    match (&state, events.first().map(|e| e.event())) {
        (_, None) => process.push(format!("文档 {id}：封装包中没有办理过程")),
        (None, Some(_)) => process.push(format!("文档 {id}：办理过程不是从创建开始")),
        (Some(s), Some(_)) if s.particulars().archive.is_none() => process.push(format!(
            "文档 {id}：办理过程未至归档（状态为{}）",
            s.particulars().state
        )),
        _ => {}
    }
    items.push(item(
        Aspect::Integrity,
        "integrity.process",
        "过程信息完整性（办理过程自创建至归档逐条连续）",
        events.len() as u64,
        process,
    ));
    let mut contents = faults(PackageFault::Unreadable, true);
    if let Some(state) = &state {
        let has_text = state
            .particulars()
            .text
            .iter()
            .any(|t| !t.trim().is_empty());
        if state.files().is_empty() && !has_text {
            contents.push(format!("文档 {id}：无正文也无文件"));
        }
    }
    for missing in &manifest.not_included {
        contents.push(format!("文件《{}》未随封装包提交", missing.name));
    }
    items.push(item(
        Aspect::Integrity,
        "integrity.content",
        "内容数据完整性（有正文或文件，所列文件均在包内）",
        1 + content.len() as u64 + manifest.not_included.len() as u64,
        contents,
    ));

    // 可用性.
    let printed = state.as_ref().and_then(printed_of);
    let mut formats = Vec::new();
    let mut readable = Vec::new();
    let mut rendering = Vec::new();
    let mut rendering_checked = 0u64;
    let mut opened = 0u64;
    for (path, bytes) in &bytes_of {
        let name = content[path];
        opened += 1;
        let kind = workflow_core::content::sniffed_kind(name, bytes);
        if let Some(why) = format_problem(kind) {
            formats.push(format!("《{name}》{why}"));
        }
        if let Some(why) = unreadable(kind, bytes) {
            readable.push(format!("《{name}》：{why}"));
        }
        let digest = manifest
            .files
            .iter()
            .find(|f| f.path == **path)
            .map(|f| f.sha256.as_str());
        if printed.as_ref().is_some_and(|p| Some(p.as_str()) == digest) {
            rendering_checked += 1;
            if let Some(why) = unrecorded_environment(bytes) {
                rendering.push(format!("《{name}》{why}"));
            }
        }
    }
    items.push(item(
        Aspect::Usability,
        "usability.formats",
        "内容数据格式（长期保存格式：PDF、OFD、JPEG、PNG）",
        opened,
        formats,
    ));
    items.push(item(
        Aspect::Usability,
        "usability.readable",
        "内容数据可读性（文件结构完整、未加密）",
        opened,
        readable,
    ));
    items.push(item(
        Aspect::Usability,
        "usability.rendering",
        "软硬件环境记录（印发的公文记有版式与字体及其摘要）",
        rendering_checked,
        rendering,
    ));

    // 安全性.
    let mut unaltered = faults(PackageFault::Altered, false);
    unaltered.extend(
        report
            .problems
            .iter()
            .filter(|p| p.fault == PackageFault::Path)
            .map(lead),
    );
    unaltered.extend(escaping);
    let listed: HashSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    match files_below(dir) {
        Ok(found) => {
            for path in found {
                if path != "manifest.json" && !listed.contains(path.as_str()) {
                    unaltered.push(format!("{path} 不在清单中：封装后被加入"));
                }
            }
        }
        Err(e) => unaltered.push(format!("无法列出封装包目录：{e}")),
    }
    items.push(item(
        Aspect::Security,
        "security.package",
        "封装包未被改动（封装文件摘要相符，无清单外文件）",
        listed.len() as u64,
        unaltered,
    ));

    Ok(ArchiveCheck {
        scope: format!("封装包 {}", dir.display()),
        records: u64::from(state.is_some()),
        scoped: true,
        events: events.len() as u64,
        items,
    })
}

/// The 值域 of eep.xml's own elements, each against the record as `document.json` folds
/// it: the 档号's parts (全宗号, 年度, 保管期限, 机构或问题, 件号), 密级, and a 责任者 given
/// where the record comes from a unit.
fn element_values<'e>(
    find: &dyn Fn(&str) -> Option<&'e Element>,
    state: &workflow_core::FlowState,
    archive: Option<&workflow_core::archive::ArchiveRecord>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut expect = |name: &str, found: Option<&str>, wanted: &str| {
        if found.map(str::trim) != Some(wanted) {
            out.push(format!(
                "{EEP_FILE} 的{name} {:?} 不在值域内或与记录的 {wanted:?} 不一致",
                found.unwrap_or("（缺）")
            ));
        }
    };
    if let Some(a) = archive {
        let r = &a.reference;
        let part = |name: &str| find(&format!("{ENTITY}/档号/{name}")).map(|e| e.text.as_str());
        expect("全宗号", part("全宗号"), &r.fonds);
        expect("年度", part("年度"), &r.year.to_string());
        expect("保管期限", part("保管期限"), r.retention.chinese());
        expect("机构或问题", part("机构或问题"), &r.unit);
        expect("件号", part("件号"), &r.item.to_string());
    }
    let described =
        |name: &str| find(&format!("{ENTITY}/内容描述/{name}")).map(|e| e.text.as_str());
    expect("密级", described("密级"), state.classification().chinese());
    // A record from a unit names it (a 督办通报 comes from none).
    if state.particulars().from.is_some() && described("责任者").is_none_or(|v| v.trim().is_empty())
    {
        out.push(format!("{EEP_FILE} 缺责任者"));
    }
    out
}

/// The 办理过程's times in eep.xml: each a time (RFC 3339), none before the one it follows
/// (形成 before 归档), and the package's own 封装包创建时间 a time. Servers sharing a store
/// record acts by their own clocks: an act up to [`CLOCK_SKEW`] before the one it follows is
/// taken as their skew, not as disorder.
fn acts_in_order(eep: &[Element]) -> Vec<String> {
    let parse = |text: &str| chrono::DateTime::parse_from_rfc3339(text.trim()).ok();
    let made = format!("{ROOT}/被签名对象/封装包创建时间");
    let made_at = eep.iter().find(|e| e.path == made).map(|e| e.text.as_str());
    let mut out = Vec::new();
    if made_at.and_then(parse).is_none() {
        out.push(format!(
            "{EEP_FILE} 的封装包创建时间 {:?} 不是时间",
            made_at.unwrap_or("（缺）")
        ));
    }
    let act = format!("{ROOT}/被签名对象/封装内容/业务实体块/业务实体/行为时间");
    let mut last: Option<chrono::DateTime<chrono::FixedOffset>> = None;
    for (n, e) in eep.iter().filter(|e| e.path == act).enumerate() {
        let n = n + 1;
        let Some(at) = parse(&e.text) else {
            out.push(format!(
                "{EEP_FILE} 第 {n} 个业务行为的行为时间 {:?} 不是时间",
                e.text
            ));
            continue;
        };
        if let Some(before) = last
            && at + CLOCK_SKEW < before
        {
            out.push(format!(
                "{EEP_FILE} 第 {n} 个业务行为的行为时间 {} 早于前一个（{}）",
                e.text.trim(),
                before.to_rfc3339()
            ));
        }
        last = Some(last.map_or(at, |before| before.max(at)));
    }
    out
}

/// How far apart the clocks of servers sharing a store may be.
const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use super::*;

    #[test]
    fn elements_resolve_entities_and_the_signed_object_is_cut_exactly() {
        let xml = "<?xml version=\"1.0\"?>\n<电子文件封装包><被签名对象 a=\"1\"><题名>A &amp; B&#x4E00;</题名></被签名对象>\n<x/></电子文件封装包>";
        let all = elements(xml.as_bytes()).unwrap();
        let title = all
            .iter()
            .find(|e| e.path == "电子文件封装包/被签名对象/题名")
            .unwrap();
        assert_eq!(title.text, "A & B一");
        assert!(all.iter().any(|e| e.path == "电子文件封装包/x"));
        assert_eq!(
            signed_bytes(xml.as_bytes()).unwrap(),
            "<被签名对象 a=\"1\"><题名>A &amp; B&#x4E00;</题名></被签名对象>".as_bytes()
        );
        assert!(elements(b"<a><b></a>").is_err());
        assert!(signed_bytes(b"<a/>").is_none());
    }
}
