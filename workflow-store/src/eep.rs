//! The package's `eep.xml`: one record in the shape of DA/T 48-2009's 电子文件封装包 (EEP),
//! readable without this software (DESIGN §14).
//!
//! ```text
//! 电子文件封装包
//! ├── 封装包格式描述, 版本
//! ├── 被签名对象 (eep版本)
//! │   ├── 封装包类型, 封装包类型描述, 封装包创建时间, 封装包创建单位
//! │   └── 封装内容
//! │       ├── 文件实体块 / 文件实体: 聚合层次, 电子文件号, 档号 (全宗号 年度 保管期限 机构或问题
//! │       │   件号), 内容描述 (题名 文件编号 责任者 密级), 形式特征 (件数), 文件数据 / 文档 /
//! │       │   文档数据 / 编码 (电子属性: 格式信息 计算机文件名 计算机文件大小; 存储位置; 摘要)
//! │       ├── 业务实体块 / 业务实体 per event of the 办理过程: 业务标识符, 机构人员标识符,
//! │       │   文件标识符, 业务状态, 业务行为, 行为时间, 行为依据, 行为描述, and 事件哈希
//! │       │   (an addition: the event's hash as `events.jsonl` holds it)
//! │       └── 机构人员实体块 / 机构人员实体 per person and unit it names
//! └── 电子签名块 / 电子签名 (when signed): 签名规则, 签名时间, 签名人, 签名结果, 证书块,
//!     签名算法标识
//! ```
//!
//! Three departures from DA/T 48, all said in the package's 封装包格式描述: the files are not
//! embedded as Base64 (编码数据) but kept beside the XML, at the 存储位置 given, fixed by their
//! SHA-256 and SM3 摘要; the signature is SM2 with SM3 (OID 1.2.156.10197.1.501) over the
//! UTF-8 bytes of the `被签名对象` element exactly as written, from `<被签名对象` to
//! `</被签名对象>`, so that it checks without XML canonicalisation; and each 业务实体 carries
//! its event's hash (`事件哈希`), so that the signature fixes `events.jsonl` too.

use std::collections::BTreeMap;
use std::io::Write as _;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use workflow_core::directory::{Actor, Unit};
use workflow_core::{FlowState, flow::Particulars};

use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::sign::Signer;

/// The file name in the package.
pub const EEP_FILE: &str = "eep.xml";

/// The OID of SM2 with SM3 (GM/T 0006).
pub const SM2_SM3_OID: &str = "1.2.156.10197.1.501";

const FORMAT_DESCRIPTION: &str = "本封装包依照 DA/T 48-2009《基于XML的电子文件封装规范》的结构生成。\
文件实体不以 Base64 编码数据内嵌，而作为文件存放于封装包目录中，位置见“存储位置”，由 SHA-256 与 SM3 摘要固定。\
电子签名为 SM2（SM3 杂凑）对本文件中“被签名对象”元素原样 UTF-8 字节（自“<被签名对象”至“</被签名对象>”）的签名，无需 XML 规范化即可验证。\
每个业务实体另加“事件哈希”（本规范之外），即 events.jsonl 中该事件的哈希，使签名亦固定办理过程的每一条记录。";

/// A file of the record as the package holds it.
pub(crate) struct PackedFile<'a> {
    pub(crate) name: &'a str,
    pub(crate) path: &'a str,
    pub(crate) media_type: &'static str,
    pub(crate) bytes: u64,
    pub(crate) sha256: &'a str,
    pub(crate) sm3: String,
}

/// What the record's XML is made of.
pub(crate) struct Record<'a> {
    pub(crate) state: &'a FlowState,
    pub(crate) events: &'a [Envelope],
    pub(crate) files: &'a [PackedFile<'a>],
    pub(crate) actors: &'a [Actor],
    pub(crate) units: &'a [Unit],
    pub(crate) created_at: workflow_core::Timestamp,
}

struct Names<'a> {
    actors: &'a [Actor],
    units: &'a [Unit],
}

impl workflow_core::sheet::Names for Names<'_> {
    fn actor(&self, id: &workflow_core::ActorId) -> String {
        self.actors
            .iter()
            .find(|a| a.id == *id)
            .map_or_else(|| id.to_string(), |a| format!("{}（{}）", a.name, a.id))
    }
    fn unit(&self, code: &str) -> Option<String> {
        self.units
            .iter()
            .find(|u| u.code.as_str() == code)
            .map(|u| u.name.clone())
    }
}

fn xml_error(e: std::io::Error) -> Error {
    Error::Internal {
        reason: format!("writing eep.xml: {e}"),
    }
}

fn time(at: workflow_core::Timestamp) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The record's `eep.xml`, signed by `signer` when one is given.
pub(crate) fn write(record: &Record<'_>, signer: Option<&dyn Signer>) -> Result<Vec<u8>> {
    let signed = signed_object(record).map_err(xml_error)?;
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(xml_error)?;
    w.create_element("电子文件封装包")
        .write_inner_content(|w| {
            text(w, "封装包格式描述", FORMAT_DESCRIPTION)?;
            text(w, "版本", "2009")?;
            // The signed object exactly as signed.
            w.get_mut().write_all(b"\n")?;
            w.get_mut().write_all(&signed)?;
            if let Some(signer) = signer {
                let signature = signer
                    .sign(&signed)
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                w.create_element("电子签名块").write_inner_content(|w| {
                    w.create_element("电子签名")
                        .with_attribute(("签名标识符", "1"))
                        .write_inner_content(|w| {
                            text(
                                w,
                                "签名规则",
                                "SM2（GB/T 32918，SM3 杂凑，用户标识为签名人）对“被签名对象”元素原样 UTF-8 字节的签名；签名结果为 r‖s 的 Base64",
                            )?;
                            text(w, "签名时间", &time(record.created_at))?;
                            text(w, "签名人", signer.signer_id())?;
                            text(
                                w,
                                "签名结果",
                                &base64::Engine::encode(
                                    &base64::engine::general_purpose::STANDARD,
                                    signature,
                                ),
                            )?;
                            w.create_element("证书块").write_inner_content(|w| {
                                text(w, "证书引用", "SM2 公钥（SEC1 未压缩，十六进制）")?;
                                text(w, "证书", &hex::encode(signer.public_key()))
                            })?;
                            text(w, "签名算法标识", SM2_SM3_OID)
                        })?;
                    Ok(())
                })?;
            }
            Ok(())
        })
        .map_err(xml_error)?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> std::io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(value))?;
    Ok(())
}

/// An element with one attribute and its text.
fn text_with(
    w: &mut Writer<Vec<u8>>,
    name: &str,
    attribute: (&str, &str),
    value: &str,
) -> std::io::Result<()> {
    w.create_element(name)
        .with_attribute(attribute)
        .write_text_content(BytesText::new(value))?;
    Ok(())
}

/// `被签名对象`, on its own (its bytes are what is signed).
fn signed_object(record: &Record<'_>) -> std::io::Result<Vec<u8>> {
    let state = record.state;
    let Particulars {
        number,
        archive,
        from,
        ..
    } = state.particulars();
    let names = Names {
        actors: record.actors,
        units: record.units,
    };
    let issuer = from
        .and_then(|code| workflow_core::sheet::Names::unit(&names, code))
        .or(from.map(str::to_owned))
        .unwrap_or_default();
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.create_element("被签名对象")
        .with_attribute(("eep版本", "2009"))
        .write_inner_content(|w| {
            text(w, "封装包类型", "原始型")?;
            text(
                w,
                "封装包类型描述",
                "本封装包包含电子文件及其元数据、办理过程与机构人员，原始封装，未经修改",
            )?;
            text(w, "封装包创建时间", &time(record.created_at))?;
            text(w, "封装包创建单位", &issuer)?;
            w.create_element("封装内容").write_inner_content(|w| {
                w.create_element("文件实体块").write_inner_content(|w| {
                    w.create_element("文件实体").write_inner_content(|w| {
                        text(w, "聚合层次", "件")?;
                        text(w, "电子文件号", &state.id().to_string())?;
                        if let Some(a) = archive {
                            let r = &a.reference;
                            w.create_element("档号")
                                .with_attribute(("档号", r.to_string().as_str()))
                                .write_inner_content(|w| {
                                    text(w, "全宗号", &r.fonds)?;
                                    text(w, "年度", &r.year.to_string())?;
                                    text(w, "保管期限", r.retention.chinese())?;
                                    text(w, "机构或问题", &r.unit)?;
                                    text(w, "件号", &r.item.to_string())
                                })?;
                        }
                        w.create_element("内容描述").write_inner_content(|w| {
                            text(w, "题名", state.title())?;
                            if let Some(n) = &number {
                                text(w, "文件编号", n)?;
                            }
                            text(w, "责任者", &issuer)?;
                            text(w, "密级", state.classification().chinese())
                        })?;
                        w.create_element("形式特征").write_inner_content(|w| {
                            text(w, "件数", &record.files.len().to_string())
                        })?;
                        w.create_element("文件数据").write_inner_content(|w| {
                            for (n, f) in record.files.iter().enumerate() {
                                document(w, n + 1, f)?;
                            }
                            Ok(())
                        })?;
                        Ok(())
                    })?;
                    Ok(())
                })?;
                w.create_element("业务实体块").write_inner_content(|w| {
                    for e in record.events {
                        let (step, summary) = match e.event() {
                            Ok(ev) => (ev.data.step().to_owned(), ev.data.summary(&names)),
                            Err(_) => (e.event_type.clone(), String::new()),
                        };
                        w.create_element("业务实体").write_inner_content(|w| {
                            text(w, "业务标识符", &e.event_id.to_string())?;
                            text(w, "机构人员标识符", e.actor.as_str())?;
                            text(w, "文件标识符", &e.stream_id.to_string())?;
                            text(w, "业务状态", "已完成")?;
                            text(w, "业务行为", &step)?;
                            text(w, "行为时间", &time(e.recorded_at))?;
                            text(w, "行为依据", &e.command_id)?;
                            text(w, "行为描述", &summary)?;
                            // Binds the event as stored (events.jsonl) to the signed record.
                            text_with(w, "事件哈希", ("算法", e.digest().name()), &e.hash)
                        })?;
                    }
                    Ok(())
                })?;
                w.create_element("机构人员实体块")
                    .write_inner_content(|w| {
                        let named: std::collections::BTreeSet<&str> =
                            record.events.iter().map(|e| e.actor.as_str()).collect();
                        for id in &named {
                            let actor = record.actors.iter().find(|a| a.id.as_str() == *id);
                            w.create_element("机构人员实体").write_inner_content(|w| {
                                text(w, "机构人员标识符", id)?;
                                text(w, "机构人员类型", "个人")?;
                                text(w, "机构人员名称", actor.map_or(*id, |a| a.name.as_str()))?;
                                if let Some(a) = actor {
                                    text(w, "组织机构代码", a.unit.as_str())?;
                                    let roles: Vec<String> =
                                        a.roles.iter().map(|r| r.chinese().to_owned()).collect();
                                    text(w, "个人职位", &roles.join("、"))?;
                                }
                                Ok(())
                            })?;
                        }
                        let units: BTreeMap<&str, &Unit> = record
                            .actors
                            .iter()
                            .filter(|a| named.contains(a.id.as_str()))
                            .filter_map(|a| record.units.iter().find(|u| u.code == a.unit))
                            .map(|u| (u.code.as_str(), u))
                            .collect();
                        for (code, unit) in units {
                            w.create_element("机构人员实体").write_inner_content(|w| {
                                text(w, "机构人员标识符", code)?;
                                text(w, "机构人员类型", "机构")?;
                                text(w, "机构人员名称", &unit.name)?;
                                text(w, "组织机构代码", code)
                            })?;
                        }
                        Ok(())
                    })?;
                Ok(())
            })?;
            Ok(())
        })?;
    Ok(w.into_inner())
}

/// One 文档 of the 文件数据: its 电子属性, where it lies in the package, and its 摘要.
fn document(w: &mut Writer<Vec<u8>>, seq: usize, f: &PackedFile<'_>) -> std::io::Result<()> {
    let seq = seq.to_string();
    w.create_element("文档")
        .with_attribute(("文档标识符", seq.as_str()))
        .write_inner_content(|w| {
            text(w, "文档序号", &seq)?;
            w.create_element("文档数据").write_inner_content(|w| {
                w.create_element("编码").write_inner_content(|w| {
                    w.create_element("电子属性").write_inner_content(|w| {
                        text(w, "格式信息", f.media_type)?;
                        text(w, "计算机文件名", f.name)?;
                        text(w, "计算机文件大小", &f.bytes.to_string())
                    })?;
                    text(w, "存储位置", f.path)?;
                    text_with(w, "摘要", ("算法", "SHA-256"), f.sha256)?;
                    text_with(w, "摘要", ("算法", "SM3"), &f.sm3)
                })?;
                Ok(())
            })?;
            Ok(())
        })?;
    Ok(())
}
