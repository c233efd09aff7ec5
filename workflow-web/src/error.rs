//! The console's one error type, and the page and HTTP status each error is answered with.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use workflow_core::ErrorClass;
use workflow_core::sheet::Names;

/// What went wrong serving a page or taking an action.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// The `[web]` settings are not usable.
    #[error("{field}: {reason}")]
    Config {
        /// The setting.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The engine refused or failed (its error names the field, state or actor).
    #[error(transparent)]
    Engine(#[from] workflow_store::Error),
    /// Nobody is signed in, or the sign-in cannot be trusted.
    #[error("{0}")]
    Unauthenticated(String),
    /// Signed in, but not allowed (a form without its CSRF token, a page for operators).
    #[error("{0}")]
    Forbidden(String),
    /// A form field is missing or malformed.
    #[error("invalid {field}: {reason}")]
    BadForm {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A page could not be rendered, a file not written (a bug or the machine's fault).
    #[error("internal error: {0}")]
    Internal(String),
    /// No page at this address.
    #[error("no page at {0}")]
    NoPage(String),
    /// A form made for another person than the one now signed in on this browser.
    #[error("{0}")]
    OtherPerson(String),
}

impl WebError {
    pub(crate) fn bad_form(field: impl Into<String>, reason: impl Into<String>) -> WebError {
        WebError::BadForm {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The HTTP status: the same classes the gRPC service answers with (INVALID_ARGUMENT
    /// 400, PERMISSION_DENIED 403, NOT_FOUND 404, FAILED_PRECONDITION / ABORTED /
    /// ALREADY_EXISTS 409, UNAVAILABLE 503, UNAUTHENTICATED 401).
    pub fn status(&self) -> StatusCode {
        use workflow_store::Error as E;
        match self {
            WebError::Config { .. } | WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::BadForm { .. } => StatusCode::BAD_REQUEST,
            WebError::NoPage(_) => StatusCode::NOT_FOUND,
            WebError::OtherPerson(_) => StatusCode::CONFLICT,
            WebError::Engine(e) => match e {
                E::Rejected(r) => match r.class() {
                    ErrorClass::InvalidArgument => StatusCode::BAD_REQUEST,
                    ErrorClass::FailedPrecondition
                    | ErrorClass::AlreadyExists
                    | ErrorClass::Aborted => StatusCode::CONFLICT,
                    ErrorClass::PermissionDenied => StatusCode::FORBIDDEN,
                    ErrorClass::NotFound => StatusCode::NOT_FOUND,
                    ErrorClass::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                },
                E::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
                E::NotFound(_) => StatusCode::NOT_FOUND,
                E::SystemClearance { .. } => StatusCode::FORBIDDEN,
                E::Conflict { .. }
                | E::WriteConflict { .. }
                | E::CommandIdReused { .. }
                | E::CommandIdMismatch { .. } => StatusCode::CONFLICT,
                e if e.is_retryable() => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    /// Whether it refuses a document above the reader's clearance.
    fn is_clearance(&self) -> bool {
        matches!(
            self,
            WebError::Engine(
                workflow_store::Error::SystemClearance { .. }
                    | workflow_store::Error::Rejected(
                        workflow_core::Error::InsufficientClearance { .. }
                    )
            )
        )
    }

    /// A heading for the person, in the office's words.
    pub(crate) fn heading(&self) -> &'static str {
        if matches!(self, WebError::OtherPerson(_)) {
            return "登录的人已经换了";
        }
        match self.status() {
            StatusCode::UNAUTHORIZED => "未登录",
            StatusCode::FORBIDDEN => "无权办理或查看",
            StatusCode::NOT_FOUND => "未找到",
            StatusCode::BAD_REQUEST => "填写有误",
            StatusCode::CONFLICT => "当前状态下不能办理",
            StatusCode::SERVICE_UNAVAILABLE => "服务暂不可用，请稍后重试",
            _ => "系统错误",
        }
    }
}

/// An error as a page shows it: a heading, a plain Chinese sentence of what happened and
/// what to do, and (for an engine's refusal) its reason code and words for support.
#[derive(Debug, Clone)]
pub(crate) struct Shown {
    pub(crate) heading: &'static str,
    pub(crate) message: String,
    pub(crate) detail: String,
}

impl WebError {
    /// What the person reads: plain Chinese by the engine's reason code (the code and the
    /// engine's own words go in `detail`); a server-side failure's particulars stay in the
    /// log, and a document above the reader's clearance is neither confirmed nor graded.
    pub(crate) fn shown(&self) -> Shown {
        self.shown_for(None, &ById)
    }

    /// [`WebError::shown`] for a refusal of the form `form`, whose fields it names by that
    /// form's labels, with people named as `names` shows them.
    pub(crate) fn shown_for(&self, form: Option<&str>, names: &dyn Names) -> Shown {
        let heading = self.heading();
        if self.status().is_server_error() {
            return Shown {
                heading,
                message: "请稍后重试；若问题持续，请联系系统管理员（详情已记入服务器日志）。"
                    .into(),
                detail: String::new(),
            };
        }
        if self.is_clearance() {
            return Shown {
                heading,
                message: "该文件不能向您显示。如确需查阅，请联系文件的承办单位或保密管理员。"
                    .into(),
                detail: String::new(),
            };
        }
        let e = match self {
            WebError::Engine(e) => e,
            // The console's own checks are worded for the person already.
            WebError::BadForm { reason, .. } => {
                return Shown {
                    heading,
                    message: reason.clone(),
                    detail: String::new(),
                };
            }
            WebError::NoPage(_) => {
                return Shown {
                    heading: "没有这个页面",
                    message: "地址可能输错了，或链接已过期。请从下面的链接回到待办或查询。".into(),
                    detail: String::new(),
                };
            }
            _ => {
                return Shown {
                    heading,
                    message: self.to_string(),
                    detail: String::new(),
                };
            }
        };
        Shown {
            heading,
            message: sentence(e, form, names),
            detail: format!("{}: {e}", e.reason()),
        }
    }
}

/// People by account id, where a page has no directory at hand.
struct ById;

impl Names for ById {}

/// The engine's refusal `e` of the form `form` as a sentence an office worker reads.
fn sentence(e: &workflow_store::Error, form: Option<&str>, names: &dyn Names) -> String {
    use workflow_core::Error as C;
    use workflow_store::Error as E;
    let field = |f: &str| crate::actions::field_label(form, f);
    match e {
        E::Conflict { .. } | E::WriteConflict { .. } => {
            "该文件已被他人处理，请刷新后查看，再决定是否办理。".into()
        }
        E::CommandIdReused { .. } | E::CommandIdMismatch { .. } => {
            "这张表单已经提交过（内容不同），请刷新页面后重新填写。".into()
        }
        E::InvalidRequest { field: f, .. } => format!("“{}”填写有误，请检查后重新提交。", field(f)),
        E::NotFound(_) => "未找到该文件，可能已被删除或链接有误。".into(),
        E::Rejected(c) => match c {
            C::InvalidField { field: f, .. } => {
                format!("“{}”填写有误，请检查后重新提交。", field(f))
            }
            C::WrongState { .. } | C::NotNow { .. } => {
                "文件当前的状态下不能办理此操作（可能已有人办理），请刷新后查看。".into()
            }
            C::StageNotCurrent { .. } => "您看到的环节已经结束，文件已流转，请刷新后查看。".into(),
            C::ContentChanged { .. } => {
                "正文在您阅读后已被修改，请刷新，阅读新的正文后再办理。".into()
            }
            C::FileNotUploaded { .. } => "所选文件不是您上传的，请先上传文件。".into(),
            C::UnknownActor { actor } => format!("通讯录中没有“{actor}”，请核对后重新选择。"),
            C::NamedActorMissingRole {
                field: f, actor, ..
            } => {
                format!(
                    "“{}”所选的“{}”没有办理此环节的职务，请另选。",
                    field(f),
                    names.actor(actor)
                )
            }
            C::NamedActorClearance {
                field: f, actor, ..
            } => {
                format!(
                    "“{}”所选的“{}”可阅密级不够，不能办理此文件，请另选。",
                    field(f),
                    names.actor(actor)
                )
            }
            C::NamedUnitClearance {
                field: f,
                unit,
                classification,
            } => {
                format!(
                    "“{}”所选的“{}”没有可阅{}文件的在岗承办人，无法承办此文件，请另选单位（或先为该单位承办人办理密级授权）。",
                    field(f),
                    names.unit_name(unit),
                    classification.chinese()
                )
            }
            C::NamedActorDeactivated { field: f, actor } => {
                format!(
                    "“{}”所选的“{}”已停用（离职或调岗），请另选。",
                    field(f),
                    names.actor(actor)
                )
            }
            C::ActorDeactivated { actor } => {
                format!("“{}”已停用（离职或调岗），不能再办理。", names.actor(actor))
            }
            C::MissingRole { .. } => "您没有办理此操作的职务权限。".into(),
            C::NotAssigned { .. } => "此环节不由您办理。".into(),
            C::DocumentNotFound(_) => "未找到该文件。".into(),
            C::DocumentExists(_) => "该文件已经存在。".into(),
            _ => "文件当前不能这样办理，请刷新后查看。".into(),
        },
        _ => "文件当前不能这样办理，请刷新后查看。".into(),
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("rendering a page: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: Option<crate::Nav>,
    /// Whether the person is not signed in (the way on is to sign in, not the pages).
    signed_out: bool,
    heading: &'a str,
    message: String,
    detail: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "web console request failed");
        }
        let shown = self.shown();
        let page = ErrorPage {
            nav: None,
            signed_out: status == StatusCode::UNAUTHORIZED,
            heading: shown.heading,
            message: shown.message,
            detail: shown.detail,
        };
        match page.render() {
            Ok(html) => (status, axum::response::Html(html)).into_response(),
            Err(_) => (status, page.heading.to_owned()).into_response(),
        }
    }
}
