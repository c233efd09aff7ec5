//! Notification delivery (DESIGN §12): what [`workflow_core::notice`] derives from the log,
//! sent to people over the deployment's channels. This is its first part: the webhook
//! channel's signatures ([`webhook`]). The outbox that follows the log, the deliverers,
//! email, 企业微信 and 钉钉 are still to come (issue #40).

pub mod webhook;
