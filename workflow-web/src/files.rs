//! A document's files on the console (DESIGN §10): opened through the document under its
//! reading rules (a classified read goes into the access log), PDF and images shown in the
//! browser, other kinds saved under their Chinese names; and, while a draft is its drafter's
//! to revise, a new 正文 or attachment uploaded and named by a revision, or an attachment
//! taken off.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Form, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use workflow_core::content::{Digest, DocumentFiles, FileRef, sniffed_kind};
use workflow_core::outgoing::Action;
use workflow_core::submission::SubmissionAction;
use workflow_core::{FlowAction, FlowState};
use workflow_store::{Engine, Request};

use crate::AppState;
use crate::auth::Person;
use crate::error::WebError;
use crate::pages::{document_id, refused};

/// How much of a file one read brings.
const CHUNK: usize = 1 << 20;

/// RFC 5987's `attr-char`s go as they are; everything else is percent-encoded.
const ATTR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `Content-Disposition` for `name`: `inline` or `attachment`, with an ASCII fallback name
/// for old clients and the real one (UTF-8, RFC 6266/5987) for the rest.
pub(crate) fn disposition(inline: bool, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        utf8_percent_encode(name, ATTR)
    )
}

/// `/doc/{id}/file/{sha256}`: the file, read through the document. The reading rules are
/// the document's (a classified one is recorded in the access log once per download); the
/// bytes come in 1 MiB reads as they are sent.
pub(crate) async fn download(
    State(state): State<AppState>,
    person: Person,
    Path((id, sha256)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let id = document_id(&id)?;
    let digest = Digest::parse(&sha256)
        .ok_or_else(|| WebError::bad_form("sha256", format!("{sha256} 不是文件摘要")))?;
    let (name, size, first) = state
        .engine
        .read_file(&person.reader, id, &digest, 0, CHUNK)
        .await?;
    let kind = sniffed_kind(&name, &first);
    let media_type = kind.map_or("application/octet-stream", |k| k.media_type());
    let inline = kind.is_some_and(|k| k.inline());
    let rest = rest_of(state.engine.clone(), digest, first.len() as u64, size);
    let body = Body::from_stream(futures::stream::once(async move { Ok(first) }).chain(rest));
    let mut response = (StatusCode::OK, body).into_response();
    served_as(&mut response, media_type, inline, &name, size)?;
    Ok(response)
}

use futures::StreamExt as _;

/// The headers of a file served through a document: its type and size, shown (PDF,
/// pictures: in the card's frame at most, never another site's) or saved under its name
/// (then sandboxed, so that even opened in place it runs nothing), never cached.
fn served_as(
    response: &mut Response,
    media_type: &str,
    inline: bool,
    name: &str,
    size: u64,
) -> Result<(), WebError> {
    let h = response.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).map_err(|e| WebError::Internal(e.to_string()));
    h.insert(header::CONTENT_TYPE, value(media_type)?);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::CONTENT_DISPOSITION,
        value(&disposition(inline, name))?,
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if inline {
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
        } else {
            "sandbox; default-src 'none'; frame-ancestors 'none'"
        }),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(())
}

/// `/doc/{id}/issued.pdf`: an issued 发文 as its 公文 (GB/T 9704, PDF/A-2b): the copy printed
/// and kept at 印发, or, for a document issued where nothing printed, laid out from its
/// record now by the engine's printer; read under the document's rules (a classified one's read is in the access
/// log).
pub(crate) async fn issued(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = document_id(&id)?;
    let s = state
        .engine
        .read_state(&person.reader, id, None, None)
        .await?;
    let FlowState::Outgoing(doc) = s else {
        return Err(WebError::bad_form("id", "只有发文印发后才有正式公文"));
    };
    let Some(issue) = doc.issue() else {
        return Err(WebError::bad_form("id", "此文件尚未印发，没有正式公文"));
    };
    // Printed at 印发 and kept: that copy, the one its `Issued` event names, through the
    // document like any of its files. Laid out now only for one issued without a printer.
    if let Some(printed) = &issue.printed {
        return Ok(Redirect::to(&format!("/doc/{id}/file/{}", printed.digest)).into_response());
    }
    // The names as the directory had them at 印发, as it would have printed then.
    let engine = state.engine.clone();
    let (file_name, pdf) = tokio::task::spawn_blocking(move || engine.print_now(&doc))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| match e {
            // Nothing was filled in: the record holds what no font prints.
            workflow_store::Error::InvalidRequest { reason, .. } => {
                tracing::warn!(%reason, "web console: an issued document cannot be laid out");
                WebError::bad_form(
                    "id",
                    "此文件的正式公文无法排版（其中有无法印制的文字），请联系系统管理员",
                )
            }
            other => other.into(),
        })?;
    let digest = Digest::of(&pdf);
    let size = pdf.len() as u64;
    let mut response = (StatusCode::OK, pdf).into_response();
    served_as(&mut response, "application/pdf", true, &file_name, size)?;
    response.headers_mut().insert(
        "x-content-sha256",
        HeaderValue::from_str(digest.as_str()).map_err(|e| WebError::Internal(e.to_string()))?,
    );
    Ok(response)
}

/// The bytes of `digest` from `from` to `size`, read as they are sent.
fn rest_of(
    engine: Engine,
    digest: Digest,
    from: u64,
    size: u64,
) -> impl futures::Stream<Item = Result<Vec<u8>, workflow_store::Error>> + Send {
    futures::stream::try_unfold(from, move |offset| {
        let engine = engine.clone();
        let digest = digest.clone();
        async move {
            if offset >= size {
                return Ok(None);
            }
            let bytes = engine.file_bytes(&digest, offset, CHUNK).await?;
            if bytes.is_empty() {
                return Err(workflow_store::Error::Internal {
                    reason: format!("file {digest} ended at {offset} of {size} bytes"),
                });
            }
            let next = offset + bytes.len() as u64;
            Ok(Some((bytes, next)))
        }
    })
}

/// The revision that names `files` instead of the document's, for a flow whose drafts the
/// drafter revises (发文, 签报); `None` for the others.
pub(crate) fn revision(s: &FlowState, files: DocumentFiles) -> Option<FlowAction> {
    match s {
        FlowState::Outgoing(d) => {
            let mut fields = d.fields().clone();
            fields.files = files;
            Some(FlowAction::Outgoing(Action::Revise(fields)))
        }
        FlowState::Submission(m) => {
            let mut fields = m.fields().clone();
            fields.files = files;
            Some(FlowAction::Submission(SubmissionAction::ReviseMemo {
                fields,
            }))
        }
        _ => None,
    }
}

/// Whether `person` may change the document's files now: a revision of it as it is passes
/// the engine's dry run.
pub(crate) fn may_change_files(engine: &Engine, person: &Person, s: &FlowState) -> bool {
    let Some(files) = s.document_files() else {
        return false;
    };
    let Some(action) = revision(s, files.clone()) else {
        return false;
    };
    let mut request = Request::new(s.id(), person.actor.id.as_str(), action);
    request.expected_version = Some(s.version());
    engine.check(&request).is_ok()
}

/// Revises the document to name `files`, against the version the person saw.
async fn revise(
    state: &AppState,
    person: &Person,
    s: &FlowState,
    version: u64,
    files: DocumentFiles,
) -> Result<(), WebError> {
    let action = revision(s, files)
        .ok_or_else(|| WebError::bad_form("file", "此类文件的附件由登记时确定，不能在此更改"))?;
    let mut request = Request::new(s.id(), person.actor.id.as_str(), action);
    request.expected_version = Some(version);
    state.engine.execute(request).await?;
    Ok(())
}

fn version_of(text: &str) -> Result<u64, WebError> {
    text.trim()
        .parse()
        .map_err(|_| WebError::bad_form("version", "页面缺少文件版本，请刷新"))
}

/// `POST /doc/{id}/files` (multipart: `csrf`, `version`, `role` = `main` or `attachment`,
/// then `file`): uploads the file as the signed-in person and revises the draft to name it,
/// as its 正文 (replacing the one before, which the log keeps) or as one more attachment.
pub(crate) async fn upload(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Result<Response, WebError> {
    let id = document_id(&id)?;
    let s = state.engine.may_act_on(&person.reader, id)?;
    let outcome = async {
        // Nothing is kept for someone who may not change the files now (the upload would
        // only be refused after it).
        if !may_change_files(&state.engine, &person, &s) {
            return Err(WebError::Forbidden(
                "您现在不能更改此文件的正文或附件：只有拟稿人在拟稿环节可以".into(),
            ));
        }
        // The transport's words stay in the log; the person is told what to do. A body
        // over the route's limit (the file's limit and a little) is the file's size.
        let limits = state.engine.content_limits();
        let broken = |e: axum::extract::multipart::MultipartError| {
            tracing::info!(error = %e, "web console: an upload broke off");
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                return too_large(limits);
            }
            WebError::bad_form("file", "上传中断（网络或浏览器中止了发送），请重新上传")
        };
        let mut values: HashMap<String, String> = HashMap::new();
        let mut file: Option<FileRef> = None;
        while let Some(mut field) = form.next_field().await.map_err(broken)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name != "file" {
                // The form's own fields are short: a token, a version, a choice.
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(broken)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > 1024 {
                        return Err(WebError::bad_form(name, "表单内容过长，请刷新页面后重试"));
                    }
                }
                values.insert(name, String::from_utf8_lossy(&text).into_owned());
                continue;
            }
            if file.is_some() {
                return Err(WebError::bad_form("file", "一次只能上传一个文件"));
            }
            // The token comes before the bytes (the form puts it first): nothing is kept for
            // a post from elsewhere.
            person.check_csrf(values.get("csrf").map(String::as_str).unwrap_or_default())?;
            let file_name = field.file_name().unwrap_or_default().to_owned();
            if file_name.is_empty() {
                return Err(WebError::bad_form("file", "请选择要上传的文件"));
            }
            file = Some(keep(&state, &person, &file_name, &mut field, "file").await?);
        }
        let file = file.ok_or_else(|| WebError::bad_form("file", "请选择要上传的文件"))?;
        let version = version_of(
            values
                .get("version")
                .map(String::as_str)
                .unwrap_or_default(),
        )?;
        let mut files = s.document_files().cloned().unwrap_or_default();
        match values.get("role").map(String::as_str) {
            Some("main") => files.main = Some(Box::new(file)),
            Some("attachment") => files.attachments.push(file),
            _ => {
                return Err(WebError::bad_form("role", "请选择上传为正文还是附件"));
            }
        }
        revise(&state, &person, &s, version, files).await
    }
    .await;
    done_or_page(&state, &person, id, outcome).await
}

/// `POST /doc/{id}/files/remove` (`csrf`, `version`, `sha256`): a revision without that
/// attachment (the log keeps it with the revisions before).
pub(crate) async fn remove(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let field = |n: &str| values.get(n).map(|v| v.trim()).unwrap_or_default();
    person.check_csrf(field("csrf"))?;
    let id = document_id(&id)?;
    let s = state.engine.may_act_on(&person.reader, id)?;
    let outcome = async {
        let version = version_of(field("version"))?;
        let mut files = s.document_files().cloned().unwrap_or_default();
        let before = files.attachments.len();
        files
            .attachments
            .retain(|f| !f.digest.as_str().eq_ignore_ascii_case(field("sha256")));
        if files.attachments.len() == before {
            return Err(WebError::bad_form("sha256", "该附件已不在此文件中，请刷新"));
        }
        revise(&state, &person, &s, version, files).await
    }
    .await;
    done_or_page(&state, &person, id, outcome).await
}

/// Keeps the bytes of the form's file `field` as an upload by `person`, named `file_name`;
/// a refusal names the form's field `form_field`.
pub(crate) async fn keep(
    state: &AppState,
    person: &Person,
    file_name: &str,
    field: &mut axum::extract::multipart::Field<'_>,
    form_field: &'static str,
) -> Result<FileRef, WebError> {
    let limits = state.engine.content_limits();
    let named = |e: WebError| match e {
        WebError::BadForm { reason, .. } => WebError::bad_form(form_field, reason),
        other => other,
    };
    let mut up = state
        .engine
        .upload(&person.reader, file_name)
        .map_err(|e| named(refused_upload(e, limits, 0)))?;
    let mut size = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        tracing::info!(error = %e, "web console: an upload broke off");
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            named(too_large(limits))
        } else {
            WebError::bad_form(form_field, "上传中断（网络或浏览器中止了发送），请重新上传")
        }
    })? {
        size += chunk.len() as u64;
        up.write(&chunk)
            .map_err(|e| named(refused_upload(e, limits, size)))?;
    }
    tokio::task::spawn_blocking(move || up.finish(None))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| named(refused_upload(e, limits, size)))
}

/// A file over the limit, the limit said exactly (a rounded figure would refuse files
/// under it).
pub(crate) fn too_large(limits: &workflow_store::content::ContentLimits) -> WebError {
    let b = limits.max_bytes;
    let limit = match b {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KB", b >> 10),
        b => format!("{b} 字节"),
    };
    WebError::bad_form(
        "file",
        format!("文件超过了 {limit} 的上限，请压缩或拆分后再上传"),
    )
}

/// An upload the engine refused, in the person's words: the name, the size against the
/// limit, an empty file, or bytes of a kind not kept (told by what was sent, not by the
/// engine's English). Anything else is the engine's refusal as it is.
fn refused_upload(
    e: workflow_store::Error,
    limits: &workflow_store::content::ContentLimits,
    size: u64,
) -> WebError {
    let workflow_store::Error::InvalidRequest { field, .. } = &e else {
        return e.into();
    };
    let said = match *field {
        "name" => "文件名不可用：须为 1–255 个字符，不含 / \\ 等路径符号和控制字符，请改名后再上传"
            .to_owned(),
        "chunk" if size > limits.max_bytes => return too_large(limits),
        "chunk" if size == 0 => "文件是空的，请重新选择".to_owned(),
        "chunk" => format!(
            "此类文件不能上传；可上传：{}",
            limits
                .kinds
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join("、")
        ),
        _ => return e.into(),
    };
    WebError::bad_form("file", said)
}

/// To the card with what was done, or the card again with why not.
async fn done_or_page(
    state: &AppState,
    person: &Person,
    id: workflow_core::DocumentId,
    outcome: Result<(), WebError>,
) -> Result<Response, WebError> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/doc/{id}?done=Revise")).into_response()),
        Err(e) => {
            tracing::info!(actor = %person.actor.id, doc = %id, error = %e, "web console: file refused");
            refused(state, person, id, &e, None).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_name_is_given_whole_with_an_ascii_fallback() {
        assert_eq!(
            disposition(true, "自评 方案\"1\".pdf"),
            "inline; filename=\"__ ___1_.pdf\"; \
             filename*=UTF-8''%E8%87%AA%E8%AF%84%20%E6%96%B9%E6%A1%88%221%22.pdf"
        );
        assert!(disposition(false, "a.docx").starts_with("attachment; filename=\"a.docx\""));
    }
}
