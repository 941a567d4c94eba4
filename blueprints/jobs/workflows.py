"""Workflows and onboarding: run triggered workflow executions; record a profile's finished test calls."""

from __future__ import annotations

import azure.functions as func

from shared.platform.jobs import queue_job
from shared.platform.store.registry import ONBOARDING_TEST_CALLS_QUEUE, WORKFLOW_EXECUTIONS_QUEUE

bp = func.Blueprint()


@queue_job(bp, WORKFLOW_EXECUTIONS_QUEUE, message="shared.workflows.models:ExecutionMessage")
def run_workflow_execution(message) -> str:
    """Run (or resume) one triggered execution, journaling each step; a vanished execution is skipped."""
    from shared.workflows import engine

    return engine.run_execution(message.tenantId, message.executionId)


@queue_job(bp, ONBOARDING_TEST_CALLS_QUEUE, message="shared.workflows.models:TestCallMessage")
def record_onboarding_test_call(message) -> str:
    """Record a finalized session started for a profile as the profile's latest test call."""
    from shared.onboarding import service as onboarding

    return onboarding.record_test_call(message.tenantId, message.profileId, message.sessionId)
