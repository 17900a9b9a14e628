"""Demo custom fields: an employee number, skills, hire date and remote flag on accounts, a cost centre and a
budget on departments, and two departments and two accounts that carry values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

SKILLS = [
    ("python", "Python", "Python"),
    ("sql", "SQL", "SQL"),
    ("design", "Design", "设计"),
    ("sales", "Sales", "销售"),
]
FIELDS = [
    {
        "entity": "user",
        "key": "employee_no",
        "label": "Employee number",
        "type": "text",
        "validation": {"pattern": "^E[0-9]{4}$"},
        "description": "E and four digits",
        "order": 1,
    },
    {"entity": "user", "key": "skills", "label": "Skills", "type": "multi_select", "dictionary": "skill", "order": 2},
    {"entity": "user", "key": "hired_on", "label": "Hired on", "type": "date", "order": 3},
    {"entity": "user", "key": "remote", "label": "Works remotely", "type": "boolean", "default": False, "order": 4},
    {"entity": "department", "key": "cost_centre", "label": "Cost centre", "type": "text", "order": 1},
    {
        "entity": "department",
        "key": "budget",
        "label": "Annual budget",
        "type": "decimal",
        "validation": {"minimum": 0, "scale": 2},
        "order": 2,
    },
]


def seed(stack: LocalStack, token: str) -> None:
    def post(path: str, body: object) -> dict[str, str]:
        return dict(expect(stack.request("POST", path, token=token, json_body=body)))

    post("/api/dictionaries", {"code": "skill", "name": "Skill", "description": "What people are good at"})
    for order, (code, label, zh) in enumerate(SKILLS):
        post(
            "/api/dictionaries/skill/items",
            {"code": code, "label": label, "order": order, "translations": {"zh-CN": zh}},
        )
    for field in FIELDS:
        post("/api/custom-fields", field)
    engineering = post(
        "/api/departments",
        {"name": "Engineering", "code": "ENG", "custom_fields": {"cost_centre": "CC-100", "budget": 1250000}},
    )
    sales = post(
        "/api/departments",
        {"name": "Sales", "code": "SALES", "custom_fields": {"cost_centre": "CC-200", "budget": 480000.5}},
    )
    for email, name, department, values in [
        (
            "lin.wei@acme.example",
            "Lin Wei",
            engineering,
            {"employee_no": "E1001", "skills": ["python", "sql"], "hired_on": "2023-04-03"},
        ),
        (
            "maria.garcia@acme.example",
            "Maria Garcia",
            sales,
            {"employee_no": "E2001", "skills": ["sales"], "hired_on": "2024-09-16", "remote": True},
        ),
    ]:
        body = {"email": email, "name": name, "department_id": department["id"], "custom_fields": values}
        post("/api/users", body)  # invited: the set-password link goes to the demo's mail outbox
