"""The graph's enums, registered with Strawberry under the same names and values.

Registration marks the classes in place, so the schema uses `graph.models`' enums directly.
"""

from __future__ import annotations

import strawberry

from graph.models import (
    ClientKind,
    ClientLinkKind,
    ClientSegment,
    ClientStatus,
    ControlBasis,
    DepartmentFunction,
    Education,
    FacilityStatus,
    FacilityType,
    KeyAccountGrade,
    LinkDirection,
    ManagerLevel,
    ManagerRole,
    OrgModel,
    ProductAudience,
    ProductCategory,
    ProfessionalTitle,
)

for _enum in (
    ClientKind,
    ClientLinkKind,
    ClientSegment,
    ClientStatus,
    ControlBasis,
    DepartmentFunction,
    Education,
    FacilityStatus,
    FacilityType,
    KeyAccountGrade,
    LinkDirection,
    ManagerLevel,
    ManagerRole,
    OrgModel,
    ProductAudience,
    ProductCategory,
    ProfessionalTitle,
):
    strawberry.enum(_enum)

__all__ = [
    "ClientKind",
    "ClientLinkKind",
    "ClientSegment",
    "ClientStatus",
    "ControlBasis",
    "DepartmentFunction",
    "Education",
    "FacilityStatus",
    "FacilityType",
    "KeyAccountGrade",
    "LinkDirection",
    "ManagerLevel",
    "ManagerRole",
    "OrgModel",
    "ProductAudience",
    "ProductCategory",
    "ProfessionalTitle",
]
