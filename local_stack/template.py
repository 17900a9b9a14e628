"""Read template.yaml: CloudFormation tags, intrinsic functions, SAM globals."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

_TAGS = {
    "!Ref": "Ref",
    "!Sub": "Fn::Sub",
    "!GetAtt": "Fn::GetAtt",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!If": "Fn::If",
    "!Equals": "Fn::Equals",
    "!Not": "Fn::Not",
    "!And": "Fn::And",
    "!Or": "Fn::Or",
    "!FindInMap": "Fn::FindInMap",
    "!Base64": "Fn::Base64",
    "!ImportValue": "Fn::ImportValue",
    "!GetAZs": "Fn::GetAZs",
    "!Condition": "Condition",
}


class _Loader(yaml.SafeLoader):
    pass


def _construct(tag: str) -> Any:
    name = _TAGS[tag]

    def build(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return build


for _tag in _TAGS:
    _Loader.add_constructor(_tag, _construct(_tag))


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain data, intrinsic functions as their long form."""
    with path.open() as handle:
        data: dict[str, Any] = yaml.load(handle, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    return data


@dataclass
class Resolver:
    """Resolves intrinsic functions against parameters and provisioned resources."""

    parameters: dict[str, Any]
    account_id: str
    region: str
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)

    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "riveredge-local",
            "AWS::NoValue": None,
        }.get(name, self.parameters.get(name))

    def ref(self, name: str) -> Any:
        if name in self.refs:
            return self.refs[name]
        value = self.pseudo(name)
        if value is None and name not in self.parameters:
            raise KeyError(f"unresolved Ref {name}")
        return value

    def get_att(self, resource: str, attribute: str) -> str:
        try:
            return self.attributes[(resource, attribute)]
        except KeyError as error:
            raise KeyError(f"unresolved GetAtt {resource}.{attribute}") from error

    def _sub(self, text: str, extra: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"
            if token in extra:
                return str(self.resolve(extra[token]))
            if "." in token:
                resource, attribute = token.split(".", 1)
                return self.get_att(resource, attribute)
            return str(self.ref(token))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _get_att(self, arg: Any) -> str:
        resource, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
        return self.get_att(resource, attribute)

    def _fn_sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        return self._sub(text, extra)

    def _intrinsics(self) -> dict[str, Any]:
        return {
            "Ref": self.ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._fn_sub,
            "Fn::Join": lambda arg: str(arg[0]).join(str(self.resolve(v)) for v in self.resolve(arg[1])),
            "Fn::Select": lambda arg: self.resolve(arg[1])[int(self.resolve(arg[0]))],
            "Fn::Split": lambda arg: str(self.resolve(arg[1])).split(arg[0]),
        }

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function replaced by what it stands for."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            intrinsic = self._intrinsics().get(key)
            if intrinsic is not None:
                return intrinsic(arg)
        return {k: self.resolve(v) for k, v in value.items()}


def parameter_defaults(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    values = {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}
    values.update(overrides or {})
    return values


def merged_function_properties(template: dict[str, Any], name: str) -> dict[str, Any]:
    """A function's properties with SAM's Globals.Function applied (environment merged)."""
    globals_ = dict(template.get("Globals", {}).get("Function", {}))
    own = dict(template["Resources"][name].get("Properties", {}))
    merged = {**globals_, **own}
    env = {
        **globals_.get("Environment", {}).get("Variables", {}),
        **own.get("Environment", {}).get("Variables", {}),
    }
    merged["Environment"] = {"Variables": env}
    return merged
