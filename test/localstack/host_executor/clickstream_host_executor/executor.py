"""
A LocalStack Lambda runtime executor that starts each execution environment as a
host `node` process instead of a container, for machines without Docker.

It speaks the same protocol as LocalStack's own runtime init inside a container
(localstack/services/lambda_/invocation/executor_endpoint.py): the process serves
POST /invoke on a loopback port, and posts status/<id>/ready (or error) once the
handler module has loaded, then per invocation its logs, then its response or
error, to LOCALSTACK_RUNTIME_ENDPOINT. bootstrap.mjs is that process.

Only Node.js runtimes run, on the host's Node (not the runtime's version). A
process that exits on its own fails its start or its running invocation at
once rather than leaving LocalStack waiting, and every process is stopped with
its execution environment; bootstrap.mjs also exits when LocalStack's process
is gone, so a killed LocalStack leaves nothing behind.
"""

import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import InvalidStateError
from importlib.resources import files
from pathlib import Path

from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor
from localstack import config
from localstack.utils.net import get_free_tcp_port

LOG = logging.getLogger(__name__)

BOOTSTRAP = str(files("clickstream_host_executor").joinpath("bootstrap.mjs"))
LOOPBACK = "127.0.0.1"
STOP_GRACE_SECONDS = 5


def node_binary() -> str:
    node = os.environ.get("CLICKSTREAM_HOST_EXECUTOR_NODE") or shutil.which("node")
    if not node:
        raise LambdaRuntimeException("no node executable: put Node.js on PATH or set CLICKSTREAM_HOST_EXECUTOR_NODE")
    return node


class HostNodeRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = ExecutorEndpoint(self.id, container_address=LOOPBACK)
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.pending_request_id: str | None = None

    def start(self, env_vars: dict[str, str]) -> None:
        runtime = self.function_version.config.runtime or ""
        if not runtime.startswith("nodejs"):
            raise LambdaRuntimeException(f"the host executor runs Node.js functions only, not {runtime or 'container images'}")
        code_dir = str(self.function_version.config.code.get_unzipped_code_location())
        port = get_free_tcp_port()
        self.executor_endpoint.container_port = port
        self.executor_endpoint.start()

        env = {key: str(value) for key, value in env_vars.items()}
        env.update(
            {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "LAMBDA_TASK_ROOT": code_dir,
                "CLICKSTREAM_HOST_EXECUTOR_PORT": str(port),
                "CLICKSTREAM_HOST_EXECUTOR_PARENT_PID": str(os.getpid()),
            }
        )
        log_dir = Path(tempfile.gettempdir()) / "lambda-host-executor"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{self.function_version.id.function_name}-{self.id}.log"
        # Lambda gives a function its memory size; V8's old space gets the same cap here.
        memory = int(self.function_version.config.memory_size or 128)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [node_binary(), f"--max-old-space-size={memory}", BOOTSTRAP],
                env=env,
                cwd=code_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        LOG.debug("executor %s: started pid %s for %s on port %s", self.id, self.process.pid, self.function_version.qualified_arn, port)
        threading.Thread(target=self._watch, args=(self.process,), daemon=True, name=f"host-executor-{self.id}").start()
        self.executor_endpoint.wait_for_startup()

    def _watch(self, process: subprocess.Popen) -> None:
        """Fails the start or the running invocation as soon as the process exits on its own."""
        code = process.wait()
        message = f"the function's process exited with code {code} (log: {self.log_path})"
        startup = self.executor_endpoint.startup_future
        if startup is not None and not startup.done():
            try:
                startup.set_exception(LambdaRuntimeException(message))
            except InvalidStateError:
                pass
        invocation = self.executor_endpoint.invocation_future
        if invocation is not None and not invocation.done() and self.pending_request_id:
            payload = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message}).encode()
            try:
                invocation.set_result(InvocationResult(self.pending_request_id, payload, is_error=True, logs=message))
            except InvalidStateError:
                pass

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        try:
            self.executor_endpoint.shutdown()
        except Exception as error:  # an endpoint never started has nothing to shut down
            LOG.debug("executor %s: endpoint shutdown: %s", self.id, error)

    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        return LOOPBACK

    def get_runtime_endpoint(self) -> str:
        return f"http://{LOOPBACK}:{config.GATEWAY_LISTEN[0].port}{self.executor_endpoint.get_endpoint_prefix()}"

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        self.pending_request_id = payload.get("invoke-id")
        try:
            return self.executor_endpoint.invoke(payload)
        finally:
            self.pending_request_id = None

    def get_logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace") if self.log_path else ""
        except OSError:
            return ""

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        try:
            node_binary()
        except LambdaRuntimeException as error:
            LOG.warning("%s", error)
            return False
        return True
