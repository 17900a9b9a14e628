"""Inputs of the onboarding tasks, and the events that start an onboarding."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class TenantTask(BaseModel):
    tenant_id: str


class Admin(BaseModel):
    admin_id: str
    email: str
    name: str


class WelcomeTask(TenantTask):
    admin: Admin


class MarkFailedTask(TenantTask):
    error: dict[str, Any] | None = None


class BootstrapOperator(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=256)


class OnboardingRequested(BaseModel):
    """tenant.created, or tenant.onboarding_retried: the attempt names the workflow's execution."""

    attempt: int = Field(default=1, ge=1)
