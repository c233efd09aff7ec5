//! Sending the engine's requests over the wire: a Rust program holding a
//! [`workflow_store::Request`] (a migration tool, the test kit's flows, the bench) sends it
//! as its typed RPC.

use tonic::codegen::{Body, Bytes, StdError};
use tonic::{Response, Status};
use workflow_store::Request;

use crate::convert::{self, CommandMessage};
use crate::pb;
use crate::pb::document_workflow_client::DocumentWorkflowClient;

/// The client's send, from the command table (`commands.rs`).
macro_rules! client_send {
    (
        no_rpc { $( $npat:pat => $why:expr; )* }
        $( $flow:ident($action:ty) {
            $( $rpc:ident: $variant:ident($msg:ident)
                from |$r:ident| $from:expr;
                to $pat:pat => { $($field:ident: $value:expr),* $(,)? };
            )*
        } )*
    ) => {
        /// Sends `request` as the RPC of its action and returns the server's answer. A
        /// request that has no RPC (a reminder, a directory change) is refused locally with
        /// `INVALID_ARGUMENT`.
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
                $($( CommandMessage::$variant(m) => client.$rpc(m).await, )*)*
            }
        }
    };
}

crate::commands::command_table!(client_send);
