"""The plugin LocalStack finds through the entry point; the executor loads only when chosen."""

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class HostNodeRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "clickstream-host-node"

    def load(self, *args, **kwargs):
        from clickstream_host_executor.executor import HostNodeRuntimeExecutor

        return HostNodeRuntimeExecutor
