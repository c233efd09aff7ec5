//! Sending the engine's requests over the wire: a Rust program holding a
//! [`workflow_store::Request`] (a migration tool, the test kit's flows, the bench) sends it
//! as its typed RPC.

use tonic::codegen::{Body, Bytes, StdError};
use tonic::{Response, Status};
use workflow_store::Request;

use crate::convert::{self, CommandMessage};
use crate::pb;
use crate::pb::document_workflow_client::DocumentWorkflowClient;

/// Sends `request` as the RPC of its action and returns the server's answer. A request that
/// has no RPC (a reminder, a directory change) is refused locally with `INVALID_ARGUMENT`.
pub async fn send<T>(
    client: &mut DocumentWorkflowClient<T>,
    request: &Request,
) -> Result<Response<pb::CommandResponse>, Status>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<StdError>,
    T::ResponseBody: Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as Body>::Error: Into<StdError> + Send,
{
    match convert::command_message(request)? {
        CommandMessage::Draft(m) => client.draft_document(m).await,
        CommandMessage::Revise(m) => client.revise_document(m).await,
        CommandMessage::SubmitForReview(m) => client.submit_for_review(m).await,
        CommandMessage::Approve(m) => client.approve(m).await,
        CommandMessage::Return(m) => client.return_document(m).await,
        CommandMessage::Withdraw(m) => client.withdraw(m).await,
        CommandMessage::Countersign(m) => client.countersign(m).await,
        CommandMessage::AddCountersigner(m) => client.add_countersigner(m).await,
        CommandMessage::RemoveCountersigner(m) => client.remove_countersigner(m).await,
        CommandMessage::AddReviewer(m) => client.add_reviewer(m).await,
        CommandMessage::Reassign(m) => client.reassign(m).await,
        CommandMessage::Delegate(m) => client.delegate(m).await,
        CommandMessage::ReturnToStage(m) => client.return_to_stage(m).await,
        CommandMessage::SignOff(m) => client.sign_off(m).await,
        CommandMessage::Issue(m) => client.issue(m).await,
        CommandMessage::Acknowledge(m) => client.acknowledge(m).await,
        CommandMessage::Archive(m) => client.archive(m).await,
        CommandMessage::Void(m) => client.void(m).await,
        CommandMessage::RegisterIncoming(m) => client.register_incoming(m).await,
        CommandMessage::ScreenIncoming(m) => client.screen_incoming(m).await,
        CommandMessage::RejectIncoming(m) => client.reject_incoming(m).await,
        CommandMessage::ProposeHandling(m) => client.propose_handling(m).await,
        CommandMessage::InstructIncoming(m) => client.instruct_incoming(m).await,
        CommandMessage::TransferInstruction(m) => client.transfer_instruction(m).await,
        CommandMessage::RecordProgress(m) => client.record_progress(m).await,
        CommandMessage::GiveCoInput(m) => client.give_co_input(m).await,
        CommandMessage::RequestExtension(m) => client.request_extension(m).await,
        CommandMessage::DecideExtension(m) => client.decide_extension(m).await,
        CommandMessage::SendBack(m) => client.send_back(m).await,
        CommandMessage::CompleteIncoming(m) => client.complete_incoming(m).await,
        CommandMessage::MarkRead(m) => client.mark_read(m).await,
        CommandMessage::AddReaders(m) => client.add_readers(m).await,
        CommandMessage::ArchiveIncoming(m) => client.archive_incoming(m).await,
        CommandMessage::OpenItem(m) => client.open_item(m).await,
        CommandMessage::AcceptItem(m) => client.accept_item(m).await,
        CommandMessage::ReportProgress(m) => client.report_progress(m).await,
        CommandMessage::RequestItemExtension(m) => client.request_item_extension(m).await,
        CommandMessage::DecideItemExtension(m) => client.decide_item_extension(m).await,
        CommandMessage::ReportCompletion(m) => client.report_completion(m).await,
        CommandMessage::CloseItem(m) => client.close_item(m).await,
        CommandMessage::ReturnItem(m) => client.return_item(m).await,
        CommandMessage::ArchiveItem(m) => client.archive_item(m).await,
    }
}
