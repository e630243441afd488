"""A small hand-built bank whose every answer is known: used where exact results are asserted."""

from __future__ import annotations

from graph.bank_rows import BankRows


def build_small_bank() -> BankRows:
    bank = BankRows()
    bank.departments = [
        {"id": "d-root", "name": "分行行长室", "function": "MANAGEMENT", "model": "COMPREHENSIVE"},
        {"id": "d-ka", "name": "大客户部", "function": "CLIENT", "model": "CLIENT"},
        {"id": "d-ka-rm", "name": "客户经理组", "function": "CLIENT", "model": "CLIENT"},
        {"id": "d-risk", "name": "风险管理部", "function": "RISK", "model": "COMPREHENSIVE"},
        {"id": "d-prod", "name": "公司业务产品部", "function": "PRODUCT", "model": "PRODUCT"},
    ]
    bank.direct_links = [
        {"fromId": "d-ka", "toId": "d-root", "since": "2020-01-01"},
        {"fromId": "d-ka-rm", "toId": "d-ka", "since": "2020-01-01"},
        {"fromId": "d-risk", "toId": "d-root", "since": "2020-01-01"},
        {"fromId": "d-prod", "toId": "d-root", "since": "2020-01-01"},
    ]
    bank.linear_links = [
        {"fromId": "d-ka", "toId": "d-prod", "since": "2021-01-01", "note": "产品需求移交"}
    ]
    bank.check_links = [
        {"fromId": "d-risk", "toId": "d-ka", "since": "2021-01-01", "note": "审贷分离"}
    ]
    bank.managers = [
        {
            "id": "m-1", "name": "王强", "level": "SENIOR", "education": "MASTER",
            "title": "MIDDLE", "creditYears": 4, "departmentId": "d-ka-rm", "reportsToId": None,
            "since": "2020-02-01",
        },
        {
            "id": "m-2", "name": "李娜", "level": "ASSISTANT", "education": "BACHELOR",
            "title": "NONE", "creditYears": 0, "departmentId": "d-ka-rm", "reportsToId": "m-1",
            "since": "2023-07-01",
        },
    ]  # fmt: skip
    bank.clients = [
        {
            "id": f"c-{i}", "name": name, "kind": kind, "segment": "EXISTING", "status": "ACTIVE",
            "grade": grade, "riskRating": 3, "industry": None, "region": "华东",
        }
        for i, (name, kind, grade) in enumerate(
            [
                ("甲集团", "CORPORATE", "A"),
                ("甲子公司", "CORPORATE", None),
                ("乙公司", "CORPORATE", "B"),
                ("张三", "INDIVIDUAL", None),
            ],
            start=1,
        )
    ]  # fmt: skip
    bank.manages = [
        {"managerId": "m-1", "clientId": "c-1", "role": "PRIMARY", "since": "2020-03-01"},
        {"managerId": "m-2", "clientId": "c-1", "role": "SECONDARY", "since": "2023-08-01"},
        {"managerId": "m-1", "clientId": "c-2", "role": "PRIMARY", "since": "2020-03-01"},
        {"managerId": "m-2", "clientId": "c-3", "role": "PRIMARY", "since": "2023-08-01"},
        {"managerId": "m-2", "clientId": "c-4", "role": "PRIMARY", "since": "2023-08-01"},
    ]
    bank.products = [
        {"id": "p-dep", "name": "单位活期存款", "category": "DEPOSIT", "audience": "CORPORATE",
         "riskLevel": 1, "departmentId": "d-prod"},
        {"id": "p-cash", "name": "现金管理", "category": "SETTLEMENT", "audience": "CORPORATE",
         "riskLevel": 1, "departmentId": "d-prod"},
    ]  # fmt: skip
    bank.holdings = [
        {"clientId": "c-1", "productId": "p-dep", "balanceCents": 123456789, "since": "2020-04-01",
         "active": True},
        {"clientId": "c-1", "productId": "p-cash", "balanceCents": 100, "since": "2021-04-01",
         "active": False},
    ]  # fmt: skip
    bank.cross_sells = [
        {"fromId": "p-dep", "toId": "p-cash", "support": 0.5, "confidence": 0.5, "lift": 1.5,
         "pinned": False}
    ]  # fmt: skip
    bank.controls = [{"fromId": "c-1", "toId": "c-2", "share": 60.0, "basis": "EQUITY"}]
    bank.related = [
        {"fromId": "c-3", "toId": "c-1", "kind": "SUPPLY_CHAIN", "role": "SUPPLIER",
         "reciprocalRole": "CUSTOMER"}
    ]  # fmt: skip
    bank.facilities = [
        {"id": "f-1", "borrowerId": "c-2", "type": "LOAN", "limitCents": 50000000000,
         "drawnCents": 12345678901, "currency": "CNY", "grantingDepartmentId": "d-ka",
         "approvingDepartmentId": "d-risk", "grantedAt": "2022-01-10"},
    ]  # fmt: skip
    bank.guarantees = [{"guarantorId": "c-3", "facilityId": "f-1", "amountCents": 1000000000}]
    return bank
