"""Demo mail: the support address and a hotline (global variables), the organisation's own welcome mail
(an override of the system type) and an own-code template with two versions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

PATH = "/api/email-templates/global-variables"
TEMPLATES = "/api/email-templates"

WELCOME = {
    "code": "welcome_email",
    "language": "en-US",
    "description": "Our welcome, with the hotline",
    "subject": 'Welcome to {{company_name}}, {{user_name|default:"colleague"}}',
    "html_body": (
        '<h2>Welcome, {{user_name|default:"colleague"}}!</h2>'
        '<p>Your account {{user_email}} is ready. <a href="{{login_url}}">Sign in to {{app_name}}</a>.</p>'
        "<p>Questions? Call {{hotline}} or write to {{support_email}}.</p>"
        '<p style="color:#888">© {{current_year}} {{company_name}}</p>'
    ),
    "text_body": (
        'Welcome, {{user_name|default:"colleague"}}!\n\nYour account {{user_email}} is ready: {{login_url}}\n'
        "Questions? Call {{hotline}} or write to {{support_email}}.\n"
    ),
}

SHIFT_REMINDER = {
    "code": "shift_reminder",
    "language": "en-US",
    "name": "Shift reminder",
    "category": "notification",
    "description": "Sent the evening before a ward shift",
    "subject": 'Your shift on {{shift_date|format:"YYYY-MM-DD"}}',
    "html_body": '<p>{{name}}, you are on {{ward}} on {{shift_date|format:"YYYY-MM-DD"}}.</p>',
    "text_body": '{{name}}, you are on {{ward}} on {{shift_date|format:"YYYY-MM-DD"}}.',
    "variables": [
        {"key": "name", "label": "Name", "type": "string", "example": "Dr. Li", "required": True},
        {"key": "ward", "label": "Ward", "type": "string", "example": "Cardiology 3", "required": True},
        {"key": "shift_date", "label": "Shift date", "type": "datetime", "example": "2026-03-02T07:00:00"},
        {
            "key": "colleagues",
            "label": "Colleagues on the shift",
            "type": "list",
            "example": [{"name": "Nurse Wang"}, {"name": "Dr. Chen"}],
        },
    ],
}

SHIFT_REMINDER_V2 = {
    "html_body": (
        '<p>{{name}}, you are on <strong>{{ward}}</strong> on {{shift_date|format:"YYYY-MM-DD HH:mm"}}.</p>'
        "{{#if colleagues}}<p>With you:</p><ul>{{#each colleagues}}<li>{{this.name}}</li>{{/each}}</ul>{{/if}}"
    ),
}


def seed(stack: LocalStack, token: str) -> None:
    support = {"value": "support@acme.example", "version": 0}
    expect(stack.request("PUT", f"{PATH}/support_email", token=token, json_body=support), 200)
    hotline = {
        "key": "hotline",
        "label": "Support hotline",
        "value": "+86 400 800 1234",
        "description": "Phone support",
    }
    expect(stack.request("POST", PATH, token=token, json_body=hotline))
    expect(stack.request("POST", TEMPLATES, token=token, json_body=WELCOME))
    reminder = expect(stack.request("POST", TEMPLATES, token=token, json_body=SHIFT_REMINDER))
    second = {**SHIFT_REMINDER_V2, "version": reminder["version"]}
    expect(stack.request("PUT", f"{TEMPLATES}/{reminder['id']}", token=token, json_body=second), 200)
