//! Every command RPC, once: its method, its wire message, and its action both ways.
//!
//! `command_table!` holds the table and hands it to the macro it is given. The gRPC crate
//! derives three things from it: the conversions (`convert`: a wire message into an engine
//! request, [`CommandMessage`](crate::convert::CommandMessage) and a request back into its
//! message), the handlers (`service`: each executes its request), and the client's send
//! (`client`: a request sent as its RPC). Adding a command to a flow is its flow module, the
//! proto, and one entry here.
//!
//! An entry reads
//!
//! ```text
//! rpc_method: Variant(WireMessage)
//!     from |r| <the action, from the message r>;
//!     to <a pattern of the action> => { <the message's own fields> };
//! ```
//!
//! under the flow whose actions it converts; `from` may refuse with `?` (the field at
//! fault), `to` may too (an action no caller could have sent). `no_rpc`, first, names the
//! actions that have no RPC, with the reason a caller is given; the compiler checks that
//! every action of every flow is either in a flow's entries or there.

/// Hands the command table to `$consumer!`.
macro_rules! command_table {
    ($consumer:ident) => {
        $consumer! {
            no_rpc {
                FlowAction::Outgoing(Action::Remind { .. })
                    => "Remind has no RPC: the server's deadline sweep gives it";
                FlowAction::Incoming(IncomingAction::RemindIncoming { .. })
                    => "RemindIncoming has no RPC: the server's deadline sweep gives it";
                FlowAction::Supervision(SupervisionAction::RemindItem { .. })
                    => "RemindItem has no RPC: the server's deadline sweep gives it";
                FlowAction::Supervision(SupervisionAction::WithdrawItem { .. })
                    => "WithdrawItem has no RPC: the engine gives it when a 收文's 批办 is sent back";
                FlowAction::Submission(SubmissionAction::RemindMemo { .. })
                    => "RemindMemo has no RPC: the server's deadline sweep gives it";
                FlowAction::Bulletin(_)
                    => "PublishBulletin has an RPC of its own (the server computes the digests)";
                FlowAction::Directory(_)
                    => "a directory change has the RPCs of WorkflowAdmin: PutActor, PutUnit, DeactivateActor";
            }
            // 发文
            Outgoing(Action) {
                draft_document: Draft(DraftDocumentRequest)
                    from |r| Action::Draft(draft_fields(r.fields)?);
                    to Action::Draft(f) => { fields: Some(draft_fields_to(&f)) };
                revise_document: Revise(ReviseDocumentRequest)
                    from |r| Action::Revise(draft_fields(r.fields)?);
                    to Action::Revise(f) => { fields: Some(draft_fields_to(&f)) };
                submit_for_review: SubmitForReview(SubmitForReviewRequest)
                    from |r| Action::SubmitForReview { route: route(r.route)? };
                    to Action::SubmitForReview { route } => { route: route_to(&route) };
                approve: Approve(ApproveRequest)
                    from |r| Action::Approve {
                        opinion: r.opinion,
                        stage: stage(r.stage),
                        content: shown("content_sha256", &r.content_sha256)?,
                    };
                    to Action::Approve { opinion, stage, content } => {
                        opinion: opinion,
                        stage: stage_index_to("stage", stage)?,
                        content_sha256: shown_to(content.as_ref()),
                    };
                return_document: Return(ReturnDocumentRequest)
                    from |r| Action::Return { reason: r.reason, stage: stage(r.stage) };
                    to Action::Return { reason, stage } => {
                        reason: reason,
                        stage: stage_index_to("stage", stage)?,
                    };
                withdraw: Withdraw(WithdrawRequest)
                    from |r| Action::Withdraw { reason: r.reason };
                    to Action::Withdraw { reason } => { reason: reason };
                countersign: Countersign(CountersignRequest)
                    from |r| Action::Countersign {
                        agree: r.agree,
                        opinion: r.opinion,
                        stage: stage(r.stage),
                        content: shown("content_sha256", &r.content_sha256)?,
                    };
                    to Action::Countersign { agree, opinion, stage, content } => {
                        agree: agree,
                        opinion: opinion,
                        stage: stage_index_to("stage", stage)?,
                        content_sha256: shown_to(content.as_ref()),
                    };
                add_countersigner: AddCountersigner(AddCountersignerRequest)
                    from |r| Action::AddCountersigner {
                        unit: UnitCode(r.unit),
                        stage: stage(r.stage),
                    };
                    to Action::AddCountersigner { unit, stage } => {
                        unit: unit.0,
                        stage: stage_index_to("stage", stage)?,
                    };
                remove_countersigner: RemoveCountersigner(RemoveCountersignerRequest)
                    from |r| Action::RemoveCountersigner {
                        unit: UnitCode(r.unit),
                        stage: stage(r.stage),
                    };
                    to Action::RemoveCountersigner { unit, stage } => {
                        unit: unit.0,
                        stage: stage_index_to("stage", stage)?,
                    };
                add_reviewer: AddReviewer(AddReviewerRequest)
                    from |r| Action::AddReviewer {
                        reviewer: ActorId(r.reviewer),
                        before: r.before,
                        stage: stage(r.stage),
                    };
                    to Action::AddReviewer { reviewer, before, stage } => {
                        reviewer: reviewer.0,
                        before: before,
                        stage: stage_index_to("stage", stage)?,
                    };
                reassign: Reassign(ReassignRequest)
                    from |r| Action::Reassign {
                        to: ActorId(r.to),
                        reason: r.reason,
                        stage: stage(r.stage),
                    };
                    to Action::Reassign { to, reason, stage } => {
                        to: to.0,
                        reason: reason,
                        stage: stage_index_to("stage", stage)?,
                    };
                delegate: Delegate(DelegateRequest)
                    from |r| Action::Delegate {
                        to: ActorId(r.to),
                        reason: r.reason,
                        stage: stage(r.stage),
                    };
                    to Action::Delegate { to, reason, stage } => {
                        to: to.0,
                        reason: reason,
                        stage: stage_index_to("stage", stage)?,
                    };
                return_to_stage: ReturnToStage(ReturnToStageRequest)
                    from |r| Action::ReturnToStage {
                        stage: r.stage as usize,
                        reason: r.reason,
                        from_stage: stage(r.from_stage),
                    };
                    to Action::ReturnToStage { stage, reason, from_stage } => {
                        stage: stage_index_to("stage", Some(stage))?.unwrap_or_default(),
                        reason: reason,
                        from_stage: stage_index_to("from_stage", from_stage)?,
                    };
                sign_off: SignOff(SignOffRequest)
                    from |r| Action::SignOff {
                        opinion: r.opinion,
                        content: shown("content_sha256", &r.content_sha256)?,
                    };
                    to Action::SignOff { opinion, content } => {
                        opinion: opinion,
                        content_sha256: shown_to(content.as_ref()),
                    };
                issue: Issue(IssueRequest)
                    from |r| Action::Issue {
                        issue_date: date("issue_date", &r.issue_date)?,
                        copies: r.copies,
                    };
                    to Action::Issue { issue_date, copies } => {
                        issue_date: issue_date.to_string(),
                        copies: copies,
                    };
                acknowledge: Acknowledge(AcknowledgeRequest)
                    from |r| Action::Acknowledge;
                    to Action::Acknowledge => {};
                archive: Archive(ArchiveRequest)
                    from |r| Action::Archive {
                        fonds: r.fonds,
                        retention: optional_enum::<Retention, pb::Retention>("retention", r.retention)?,
                        unit_code: r.unit_code,
                        deviation_reason: r.deviation_reason,
                    };
                    to Action::Archive { fonds, retention: kept, unit_code, deviation_reason } => {
                        fonds: fonds,
                        retention: kept.map_or(0, |k| retention(k) as i32),
                        unit_code: unit_code,
                        deviation_reason: deviation_reason,
                    };
                void: Void(VoidRequest)
                    from |r| Action::Void { reason: r.reason };
                    to Action::Void { reason } => { reason: reason };
            }
            // 收文
            Incoming(IncomingAction) {
                register_incoming: RegisterIncoming(RegisterIncomingRequest)
                    from |r| IncomingAction::Register {
                        registration: registration(r.registration)?,
                        unit: (!r.unit.trim().is_empty()).then(|| UnitCode(r.unit.trim().to_owned())),
                    };
                    to IncomingAction::Register { registration, unit } => {
                        registration: Some(registration_sent(&registration)?),
                        unit: unit.map(|u| u.0).unwrap_or_default(),
                    };
                screen_incoming: ScreenIncoming(ScreenIncomingRequest)
                    from |r| IncomingAction::Screen {
                        note: r.note,
                        deadline: optional_date("deadline", &r.deadline)?,
                    };
                    to IncomingAction::Screen { note, deadline } => {
                        note: note,
                        deadline: deadline.map(|d| d.to_string()).unwrap_or_default(),
                    };
                reject_incoming: RejectIncoming(RejectIncomingRequest)
                    from |r| IncomingAction::RejectIncoming { reason: r.reason };
                    to IncomingAction::RejectIncoming { reason } => { reason: reason };
                propose_handling: ProposeHandling(ProposeHandlingRequest)
                    from |r| IncomingAction::Propose {
                        plan: plan(r.readers, r.leader, &r.act_by, r.co_leaders, r.in_turn)?,
                        opinion: r.opinion,
                    };
                    to IncomingAction::Propose { plan, opinion } => {
                        readers: plan_to(&plan).readers,
                        leader: plan_to(&plan).leader,
                        act_by: plan_to(&plan).act_by,
                        co_leaders: plan_to(&plan).co_leaders,
                        in_turn: plan_to(&plan).in_turn,
                        opinion: opinion,
                    };
                comment_instruction: CommentInstruction(CommentInstructionRequest)
                    from |r| IncomingAction::CommentInstruction { opinion: r.opinion };
                    to IncomingAction::CommentInstruction { opinion } => { opinion: opinion };
                instruct_incoming: InstructIncoming(InstructIncomingRequest)
                    from |r| IncomingAction::Instruct {
                        lead_unit: UnitCode(r.lead_unit),
                        co_units: r.co_units.into_iter().map(UnitCode).collect(),
                        deadline: date("deadline", &r.deadline)?,
                        opinion: r.opinion,
                        supervise: r.supervise,
                    };
                    to IncomingAction::Instruct { lead_unit, co_units, deadline, opinion, supervise } => {
                        lead_unit: lead_unit.0,
                        co_units: co_units.into_iter().map(|u| u.0).collect(),
                        deadline: deadline.to_string(),
                        opinion: opinion,
                        supervise: supervise,
                    };
                transfer_instruction: TransferInstruction(TransferInstructionRequest)
                    from |r| IncomingAction::TransferInstruction {
                        to: ActorId(r.to),
                        opinion: r.opinion,
                    };
                    to IncomingAction::TransferInstruction { to, opinion } => {
                        to: to.0,
                        opinion: opinion,
                    };
                return_slip: ReturnSlip(ReturnSlipRequest)
                    from |r| IncomingAction::ReturnSlip { note: r.note };
                    to IncomingAction::ReturnSlip { note } => { note: note };
                urge_incoming: UrgeIncoming(UrgeIncomingRequest)
                    from |r| IncomingAction::UrgeIncoming { message: r.message };
                    to IncomingAction::UrgeIncoming { message } => { message: message };
                record_progress: RecordProgress(RecordProgressRequest)
                    from |r| IncomingAction::RecordProgress { text: r.text };
                    to IncomingAction::RecordProgress { text } => { text: text };
                give_co_input: GiveCoInput(GiveCoInputRequest)
                    from |r| IncomingAction::CoInput { text: r.text };
                    to IncomingAction::CoInput { text } => { text: text };
                request_extension: RequestExtension(RequestExtensionRequest)
                    from |r| IncomingAction::RequestExtension {
                        until: date("until", &r.until)?,
                        reason: r.reason,
                    };
                    to IncomingAction::RequestExtension { until, reason } => {
                        until: until.to_string(),
                        reason: reason,
                    };
                decide_extension: DecideExtension(DecideExtensionRequest)
                    from |r| IncomingAction::DecideExtension { grant: r.grant, reason: r.reason };
                    to IncomingAction::DecideExtension { grant, reason } => {
                        grant: grant,
                        reason: reason,
                    };
                send_back: SendBack(SendBackRequest)
                    from |r| IncomingAction::SendBack { reason: r.reason };
                    to IncomingAction::SendBack { reason } => { reason: reason };
                complete_incoming: CompleteIncoming(CompleteIncomingRequest)
                    from |r| IncomingAction::Complete { result: r.result, reply: r.reply };
                    to IncomingAction::Complete { result, reply } => {
                        result: result,
                        reply: reply,
                    };
                mark_read: MarkRead(MarkReadRequest)
                    from |r| IncomingAction::MarkRead { opinion: r.opinion };
                    to IncomingAction::MarkRead { opinion } => { opinion: opinion };
                add_readers: AddReaders(AddReadersRequest)
                    from |r| IncomingAction::AddReaders {
                        readers: r.readers.into_iter().map(ActorId).collect(),
                        act_by: optional_date("act_by", &r.act_by)?,
                    };
                    to IncomingAction::AddReaders { readers, act_by } => {
                        readers: readers.into_iter().map(|a| a.0).collect(),
                        act_by: act_by.map(|d| d.to_string()).unwrap_or_default(),
                    };
                archive_incoming: ArchiveIncoming(ArchiveIncomingRequest)
                    from |r| IncomingAction::ArchiveIncoming {
                        fonds: r.fonds,
                        retention: optional_enum::<Retention, pb::Retention>("retention", r.retention)?,
                        unit_code: r.unit_code,
                        deviation_reason: r.deviation_reason,
                    };
                    to IncomingAction::ArchiveIncoming { fonds, retention: kept, unit_code, deviation_reason } => {
                        fonds: fonds,
                        retention: kept.map_or(0, |k| retention(k) as i32),
                        unit_code: unit_code,
                        deviation_reason: deviation_reason,
                    };
            }
            // 督办
            Supervision(SupervisionAction) {
                open_item: OpenItem(OpenItemRequest)
                    from |r| SupervisionAction::OpenItem { spec: spec(r.spec)? };
                    to SupervisionAction::OpenItem { spec } => { spec: Some(spec_sent(&spec)?) };
                accept_item: AcceptItem(AcceptItemRequest)
                    from |r| SupervisionAction::AcceptItem { note: r.note };
                    to SupervisionAction::AcceptItem { note } => { note: note };
                report_progress: ReportProgress(ReportProgressRequest)
                    from |r| SupervisionAction::ReportProgress {
                        text: r.text,
                        percent: percent(r.percent)?,
                    };
                    to SupervisionAction::ReportProgress { text, percent } => {
                        text: text,
                        percent: percent.map(u32::from),
                    };
                request_item_extension: RequestItemExtension(RequestItemExtensionRequest)
                    from |r| SupervisionAction::RequestItemExtension {
                        until: date("until", &r.until)?,
                        reason: r.reason,
                    };
                    to SupervisionAction::RequestItemExtension { until, reason } => {
                        until: until.to_string(),
                        reason: reason,
                    };
                decide_item_extension: DecideItemExtension(DecideItemExtensionRequest)
                    from |r| SupervisionAction::DecideItemExtension {
                        grant: r.grant,
                        reason: r.reason,
                    };
                    to SupervisionAction::DecideItemExtension { grant, reason } => {
                        grant: grant,
                        reason: reason,
                    };
                report_completion: ReportCompletion(ReportCompletionRequest)
                    from |r| SupervisionAction::ReportCompletion { result: r.result };
                    to SupervisionAction::ReportCompletion { result } => { result: result };
                close_item: CloseItem(CloseItemRequest)
                    from |r| SupervisionAction::CloseItem {
                        note: r.note,
                        grade: optional_enum::<workflow_core::supervision::Grade, pb::ItemGrade>("grade", r.grade)?,
                    };
                    to SupervisionAction::CloseItem { note, grade: given } => {
                        note: note,
                        grade: given.map_or(0, |g| grade(g) as i32),
                    };
                return_item: ReturnItem(ReturnItemRequest)
                    from |r| SupervisionAction::ReturnItem { reason: r.reason };
                    to SupervisionAction::ReturnItem { reason } => { reason: reason };
                urge_item: UrgeItem(UrgeItemRequest)
                    from |r| SupervisionAction::UrgeItem { message: r.message };
                    to SupervisionAction::UrgeItem { message } => { message: message };
                give_item_input: GiveItemInput(GiveItemInputRequest)
                    from |r| SupervisionAction::GiveItemInput { text: r.text };
                    to SupervisionAction::GiveItemInput { text } => { text: text };
                archive_item: ArchiveItem(ArchiveItemRequest)
                    from |r| SupervisionAction::ArchiveItem {
                        fonds: r.fonds,
                        retention: optional_enum::<Retention, pb::Retention>("retention", r.retention)?,
                        unit_code: r.unit_code,
                        deviation_reason: r.deviation_reason,
                    };
                    to SupervisionAction::ArchiveItem { fonds, retention: kept, unit_code, deviation_reason } => {
                        fonds: fonds,
                        retention: kept.map_or(0, |k| retention(k) as i32),
                        unit_code: unit_code,
                        deviation_reason: deviation_reason,
                    };
            }
            // 签报
            Submission(SubmissionAction) {
                draft_memo: DraftMemo(DraftMemoRequest)
                    from |r| SubmissionAction::DraftMemo { fields: memo_fields(r.fields)? };
                    to SubmissionAction::DraftMemo { fields } => {
                        fields: Some(memo_fields_to(&fields)),
                    };
                revise_memo: ReviseMemo(ReviseMemoRequest)
                    from |r| SubmissionAction::ReviseMemo { fields: memo_fields(r.fields)? };
                    to SubmissionAction::ReviseMemo { fields } => {
                        fields: Some(memo_fields_to(&fields)),
                    };
                submit_memo: SubmitMemo(SubmitMemoRequest)
                    from |r| SubmissionAction::SubmitMemo { route: route(r.route)? };
                    to SubmissionAction::SubmitMemo { route } => { route: route_to(&route) };
                approve_memo: ApproveMemo(ApproveMemoRequest)
                    from |r| SubmissionAction::ApproveMemo {
                        opinion: r.opinion,
                        stage: stage(r.stage),
                        content: shown("content_sha256", &r.content_sha256)?,
                    };
                    to SubmissionAction::ApproveMemo { opinion, stage, content } => {
                        opinion: opinion,
                        stage: stage_index_to("stage", stage)?,
                        content_sha256: shown_to(content.as_ref()),
                    };
                countersign_memo: CountersignMemo(CountersignMemoRequest)
                    from |r| SubmissionAction::CountersignMemo {
                        agree: r.agree,
                        opinion: r.opinion,
                        stage: stage(r.stage),
                        content: shown("content_sha256", &r.content_sha256)?,
                    };
                    to SubmissionAction::CountersignMemo { agree, opinion, stage, content } => {
                        agree: agree,
                        opinion: opinion,
                        stage: stage_index_to("stage", stage)?,
                        content_sha256: shown_to(content.as_ref()),
                    };
                return_memo: ReturnMemo(ReturnMemoRequest)
                    from |r| SubmissionAction::ReturnMemo { reason: r.reason };
                    to SubmissionAction::ReturnMemo { reason } => { reason: reason };
                accept_memo: AcceptMemo(AcceptMemoRequest)
                    from |r| SubmissionAction::AcceptMemo {
                        opinion: r.opinion,
                        leaders: r.leaders.into_iter().map(ActorId).collect(),
                    };
                    to SubmissionAction::AcceptMemo { opinion, leaders } => {
                        opinion: opinion,
                        leaders: leaders.into_iter().map(|a| a.0).collect(),
                    };
                endorse_memo: EndorseMemo(EndorseMemoRequest)
                    from |r| SubmissionAction::EndorseMemo {
                        decision: decision_from(r.decision)?,
                        text: r.text,
                        supervise: supervise(r.supervise)?,
                        content: shown("content_sha256", &r.content_sha256)?,
                    };
                    to SubmissionAction::EndorseMemo { decision, text, supervise, content } => {
                        decision: decision_to(decision),
                        text: text,
                        supervise: supervise_to(supervise.as_ref()),
                        content_sha256: shown_to(content.as_ref()),
                    };
                refer_memo: ReferMemo(ReferMemoRequest)
                    from |r| SubmissionAction::ReferMemo { to: ActorId(r.to), opinion: r.opinion };
                    to SubmissionAction::ReferMemo { to, opinion } => {
                        to: to.0,
                        opinion: opinion,
                    };
                close_memo: CloseMemo(CloseMemoRequest)
                    from |r| SubmissionAction::CloseMemo { note: r.note };
                    to SubmissionAction::CloseMemo { note } => { note: note };
                archive_memo: ArchiveMemo(ArchiveMemoRequest)
                    from |r| SubmissionAction::ArchiveMemo {
                        fonds: r.fonds,
                        retention: optional_enum::<Retention, pb::Retention>("retention", r.retention)?,
                        unit_code: r.unit_code,
                        deviation_reason: r.deviation_reason,
                    };
                    to SubmissionAction::ArchiveMemo { fonds, retention: kept, unit_code, deviation_reason } => {
                        fonds: fonds,
                        retention: kept.map_or(0, |k| retention(k) as i32),
                        unit_code: unit_code,
                        deviation_reason: deviation_reason,
                    };
                void_memo: VoidMemo(VoidMemoRequest)
                    from |r| SubmissionAction::VoidMemo { reason: r.reason };
                    to SubmissionAction::VoidMemo { reason } => { reason: reason };
            }
        }
    };
}
pub(crate) use command_table;
