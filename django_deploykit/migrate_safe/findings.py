"""What classification finds: hazards, per-operation verdicts, and a rule's judgement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django_deploykit.migrate_safe.phases import HazardKind, Phase


@dataclass(frozen=True)
class Hazard:
    kind: HazardKind
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "reason": self.reason}


@dataclass
class OperationVerdict:
    """What one operation needs: its phase, a one-line reason, a fix when refused, its hazards."""

    index: int
    description: str
    operation: str
    phase: Phase
    reason: str
    hazards: list[Hazard] = field(default_factory=list)
    fix: str = ""
    lock: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "lock": self.lock,
            "operation": self.operation,
            "description": self.description,
            "phase": self.phase,
            "reason": self.reason,
            "fix": self.fix,
            "hazards": [h.as_dict() for h in self.hazards],
        }


@dataclass
class Judgement:
    phase: Phase
    reason: str
    hazards: list[Hazard] = field(default_factory=list)
    fix: str = ""
