//! The console's one error type, and the page and HTTP status each error is answered with.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use workflow_core::ErrorClass;

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

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("rendering a page: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: Option<crate::Nav>,
    heading: &'a str,
    message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "web console request failed");
        }
        // A server-side failure's particulars (paths, the backend's words) stay in the log;
        // a document above the reader's clearance is neither confirmed nor graded.
        let message = if status.is_server_error() {
            "请稍后重试；若问题持续，请联系系统管理员（详情已记入服务器日志）。".to_owned()
        } else if self.is_clearance() {
            "该文件不能向您显示。如确需查阅，请联系文件的承办单位或保密管理员。".to_owned()
        } else {
            self.to_string()
        };
        let page = ErrorPage {
            nav: None,
            heading: self.heading(),
            message,
        };
        match page.render() {
            Ok(html) => (status, axum::response::Html(html)).into_response(),
            Err(_) => (status, page.heading.to_owned()).into_response(),
        }
    }
}
