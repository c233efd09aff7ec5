#!/usr/bin/env python3
"""A campus system calling the engine over gRPC from Python: a 签报 from 拟稿 to 批示.

The stubs are generated from the repository's proto at start (grpcio-tools), so nothing
generated is kept. Each command carries its own command_id (the idempotency key): resent,
the same command is answered from the record ("replayed") and recorded once. Errors carry a
gRPC status code and a message naming the field, state, actor or role.

    python3 -m pip install -r examples/python/requirements.txt
    cargo run --release -p workflow-cli -- serve          # in another terminal
    python3 examples/python/client.py                     # 127.0.0.1:50051, the dev token
"""

import argparse
import importlib
import os
import sys
import tempfile
import uuid

import grpc
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "proto"))


def stubs():
    """Generates the workflow.v1 stubs into a temporary folder and imports them."""
    out = tempfile.mkdtemp(prefix="workflow-pb-")
    well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    status = protoc.main([
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        "workflow/v1/workflow.proto",
    ])
    if status != 0:
        sys.exit(f"protoc failed on {PROTO_ROOT}/workflow/v1/workflow.proto")
    sys.path.insert(0, out)
    pb = importlib.import_module("workflow.v1.workflow_pb2")
    rpc = importlib.import_module("workflow.v1.workflow_pb2_grpc")
    return pb, rpc


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--addr", default="127.0.0.1:50051")
    args.add_argument("--token", default="dev-oa-portal-token")
    a = args.parse_args()
    pb, rpc = stubs()
    channel = grpc.insecure_channel(a.addr)
    stub = rpc.DocumentWorkflowStub(channel)
    auth = [("authorization", f"Bearer {a.token}")]
    memo = str(uuid.uuid4())

    def send(method, actor, **fields):
        """Sends one command as `actor`, with a fresh command id; returns the response."""
        request = getattr(pb, f"{method}Request")(
            command_id=str(uuid.uuid4()), actor_id=actor, document_id=memo, **fields
        )
        response = getattr(stub, method)(request, metadata=auth)
        kinds = [e.type for e in response.events]
        print(f"{method:<16} {actor:<12} → version {response.version} {kinds}")
        return request, response

    fields = pb.MemoFields(
        title="关于举办2027年青年教师教学竞赛的请示",
        summary="拟于2027年4月举办全校青年教师教学竞赛，需经费12万元，请批示。",
        body="为提高青年教师教学水平，拟举办第十届青年教师教学竞赛。妥否，请批示。",
    )
    draft, _ = send("DraftMemo", "wang.fang", fields=fields)
    # The unit head's 审核, then the office's 核稿 and one leader's 批示.
    route = [pb.RouteStage(review=pb.ReviewStage(reviewer="li.qiang"))]
    send("SubmitMemo", "wang.fang", route=route)
    send("ApproveMemo", "li.qiang", opinion="同意，呈报。")
    send("AcceptMemo", "liu.yang", opinion="拟同意，请宋副校长批示。", leaders=["song.hua"])
    send("EndorseMemo", "song.hua", decision=pb.DECISION_AGREE, text="同意。")

    # A retry of the same command (same command_id) is answered from the record.
    again = stub.DraftMemo(draft, metadata=auth)
    print(f"resent DraftMemo  replayed={again.replayed} version={again.version}")
    # A refusal: the 批示 is given, so nobody may 批示 again.
    try:
        send("EndorseMemo", "song.hua", decision=pb.DECISION_AGREE, text="同意。")
    except grpc.RpcError as e:
        print(f"refused          {e.code().name}: {e.details()}")

    got = stub.GetMemo(pb.GetDocumentRequest(actor_id="wang.fang", document_id=memo),
                       metadata=auth)
    decision = pb.Decision.Name(got.decision)
    print(f"《{got.fields.title}》 {got.number} {got.step} ({got.step_chinese}) {decision}")
    history = stub.GetHistory(pb.GetHistoryRequest(actor_id="wang.fang", document_id=memo),
                              metadata=auth)
    print("history:", " ".join(e.type for e in history.events))


if __name__ == "__main__":
    main()
