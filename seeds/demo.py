"""The demo bank: one believable branch, deterministic, with Chinese names and ASCII ids.

It has every shape the features look for: a department tree with linear hand-offs and
check-and-balance links, managers at all four levels with reporting lines, corporate groups
(华东钢铁集团 with a two-level group), individuals and interbank clients, holdings with planted
co-holding patterns and the cross-sell measures computed from them, facilities granted by
several departments to one group (多头授信), unapproved and non-independently approved
facilities, and guarantee circles of three and four firms plus a mutual pair.
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Final

from graph.bank_rows import (
    BankRows,
    ClientRow,
    ControlRow,
    CrossSellRow,
    DepartmentLinkRow,
    DepartmentRow,
    FacilityRow,
    GuaranteeRow,
    HoldingRow,
    ManagerRow,
    ManagesRow,
    ProductRow,
    RelatedRow,
)
from graph.cross_sell_refresh import compute_measures
from graph.csv_export import write_table
from graph.csv_tables import TABLES

SEED: Final = 20261128
# The demo bank as shipped: the import CSV set this module writes (see write_demo_csv).
DEMO_CSV: Final = Path(__file__).parent / "demo_bank"
YUAN: Final = 100  # cents per yuan

ROOT_DEPARTMENT_ID: Final = "dept-hq"
KEY_ACCOUNTS_DEPARTMENT_ID: Final = "dept-key-accounts"
RM_GROUP_ID: Final = "dept-ka-rm-group"
SERVICE_GROUP_ID: Final = "dept-ka-service-group"
MARKET_EXPANSION_GROUP_ID: Final = "dept-ka-market-group"
EAST_TEAM_ID: Final = "dept-ka-east"
SOUTH_TEAM_ID: Final = "dept-ka-south"
RETAIL_DEPARTMENT_ID: Final = "dept-retail"
RISK_DEPARTMENT_ID: Final = "dept-risk"
APPROVAL_DEPARTMENT_ID: Final = "dept-approval"

HD_STEEL_ID: Final = "cli-hdsteel"
HD_STEEL_GROUP: Final = (
    HD_STEEL_ID,
    "cli-hdsteel-trade",
    "cli-hdsteel-mining",
    "cli-hdsteel-logistics",
    "cli-hdsteel-property",
    "cli-hdsteel-coke",
)
# Guarantee circles, in cycle order: each guarantees a facility of the next, the last the first's.
GUARANTEE_CIRCLE_3: Final = ("cli-0101", "cli-0102", "cli-0103")
GUARANTEE_CIRCLE_4: Final = ("cli-0111", "cli-0112", "cli-0113", "cli-0114")
MUTUAL_PAIR: Final = ("cli-0121", "cli-0122")
UNAPPROVED_FACILITY_IDS: Final = ("fac-0901", "fac-0902", "fac-0903")
# Approved by the granting team's own parent department: not independent.
NON_INDEPENDENT_APPROVAL_FACILITY_IDS: Final = ("fac-0904",)

DEPARTMENTS: Final = (
    # id, name, function, model, parent
    (ROOT_DEPARTMENT_ID, "分行行长室", "MANAGEMENT", "COMPREHENSIVE", None),
    (KEY_ACCOUNTS_DEPARTMENT_ID, "大客户部", "CLIENT", "CLIENT", ROOT_DEPARTMENT_ID),
    (RM_GROUP_ID, "客户经理组", "CLIENT", "CLIENT", KEY_ACCOUNTS_DEPARTMENT_ID),
    (SERVICE_GROUP_ID, "客服组", "CLIENT", "CLIENT", KEY_ACCOUNTS_DEPARTMENT_ID),
    (MARKET_EXPANSION_GROUP_ID, "市场拓展组", "CLIENT", "CLIENT", KEY_ACCOUNTS_DEPARTMENT_ID),
    (EAST_TEAM_ID, "华东区域团队", "CLIENT", "REGION", KEY_ACCOUNTS_DEPARTMENT_ID),
    (SOUTH_TEAM_ID, "华南区域团队", "CLIENT", "REGION", KEY_ACCOUNTS_DEPARTMENT_ID),
    (RETAIL_DEPARTMENT_ID, "零售银行部", "CLIENT", "CLIENT", ROOT_DEPARTMENT_ID),
    (RISK_DEPARTMENT_ID, "风险管理部", "RISK", "COMPREHENSIVE", ROOT_DEPARTMENT_ID),
    (APPROVAL_DEPARTMENT_ID, "授信审批部", "APPROVAL", "COMPREHENSIVE", ROOT_DEPARTMENT_ID),
    ("dept-corp-products", "公司业务产品部", "PRODUCT", "PRODUCT", ROOT_DEPARTMENT_ID),
    ("dept-retail-products", "个人金融产品部", "PRODUCT", "PRODUCT", ROOT_DEPARTMENT_ID),
    ("dept-fin-markets", "金融市场部", "PRODUCT", "PRODUCT", ROOT_DEPARTMENT_ID),
    ("dept-intl", "国际业务部", "PRODUCT", "PRODUCT", ROOT_DEPARTMENT_ID),
    ("dept-operations", "运营管理部", "OPERATIONS", "COMPREHENSIVE", ROOT_DEPARTMENT_ID),
    ("dept-it", "信息科技部", "IT", "COMPREHENSIVE", ROOT_DEPARTMENT_ID),
)

LINEAR_LINKS: Final = (
    (KEY_ACCOUNTS_DEPARTMENT_ID, "dept-corp-products", "对公产品需求移交"),
    (KEY_ACCOUNTS_DEPARTMENT_ID, "dept-intl", "国际结算与贸易融资需求移交"),
    (KEY_ACCOUNTS_DEPARTMENT_ID, "dept-fin-markets", "资金与外汇需求移交"),
    (KEY_ACCOUNTS_DEPARTMENT_ID, "dept-operations", "开户与结算作业移交"),
    (RETAIL_DEPARTMENT_ID, "dept-retail-products", "个人产品需求移交"),
    (RETAIL_DEPARTMENT_ID, "dept-operations", "个人业务作业移交"),
    (MARKET_EXPANSION_GROUP_ID, RM_GROUP_ID, "新客户移交维护"),
)

CHECK_LINKS: Final = (
    (RISK_DEPARTMENT_ID, KEY_ACCOUNTS_DEPARTMENT_ID, "风险监控"),
    (RISK_DEPARTMENT_ID, RETAIL_DEPARTMENT_ID, "风险监控"),
    (APPROVAL_DEPARTMENT_ID, KEY_ACCOUNTS_DEPARTMENT_ID, "审贷分离"),
    (APPROVAL_DEPARTMENT_ID, RETAIL_DEPARTMENT_ID, "审贷分离"),
    (APPROVAL_DEPARTMENT_ID, EAST_TEAM_ID, "审贷分离"),
    (APPROVAL_DEPARTMENT_ID, SOUTH_TEAM_ID, "审贷分离"),
)

PRODUCTS: Final = (
    # id, name, category, audience, risk level, department
    ("prd-deposit-corp", "单位活期存款", "DEPOSIT", "CORPORATE", 1, "dept-corp-products"),
    ("prd-term-deposit-corp", "单位定期存款", "DEPOSIT", "CORPORATE", 1, "dept-corp-products"),
    ("prd-working-capital", "流动资金贷款", "LOAN", "CORPORATE", 3, "dept-corp-products"),
    ("prd-fixed-asset-loan", "固定资产贷款", "LOAN", "CORPORATE", 4, "dept-corp-products"),
    ("prd-acceptance", "银行承兑汇票", "SETTLEMENT", "CORPORATE", 3, "dept-corp-products"),
    ("prd-domestic-lc", "国内信用证", "SETTLEMENT", "CORPORATE", 3, "dept-intl"),
    ("prd-cash-mgmt", "现金管理", "SETTLEMENT", "CORPORATE", 1, "dept-corp-products"),
    ("prd-payroll", "代发工资", "SETTLEMENT", "CORPORATE", 1, "dept-corp-products"),
    ("prd-fx", "外汇买卖", "FX", "ALL", 3, "dept-fin-markets"),
    ("prd-deposit-retail", "个人活期存款", "DEPOSIT", "INDIVIDUAL", 1, "dept-retail-products"),
    ("prd-mortgage", "个人住房贷款", "LOAN", "INDIVIDUAL", 2, "dept-retail-products"),
    ("prd-credit-card", "信用卡", "CARD", "INDIVIDUAL", 2, "dept-retail-products"),
    ("prd-wealth", "理财产品", "WEALTH", "ALL", 3, "dept-retail-products"),
    ("prd-insurance", "代理保险", "INSURANCE", "INDIVIDUAL", 2, "dept-retail-products"),
    ("prd-fund", "基金代销", "BROKERAGE", "INDIVIDUAL", 4, "dept-fin-markets"),
    ("prd-gold", "贵金属", "WEALTH", "INDIVIDUAL", 4, "dept-fin-markets"),
    ("prd-mobile-banking", "手机银行", "SETTLEMENT", "ALL", 1, "dept-retail-products"),
)
PINNED_CROSS_SELL: Final = ("prd-mortgage", "prd-insurance")

SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN: Final = (
    "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
    "秀英", "丽", "华", "建国", "晓东", "海燕", "志强", "春梅", "文博", "子涵", "雨轩",
)  # fmt: skip
CITIES: Final = (
    "上海", "苏州", "杭州", "宁波", "南京", "无锡", "广州", "深圳", "东莞", "佛山", "厦门",
)  # fmt: skip
BRANDS: Final = (
    "宏达", "恒信", "金桥", "瑞丰", "永昌", "华盛", "盛通", "天源", "远航", "新锐", "鼎泰",
    "嘉禾", "利通", "鸿运", "中联", "润泽", "博远", "汇丰源", "长城", "明珠",
)  # fmt: skip
INDUSTRIES: Final = (
    ("钢铁", "钢材"), ("制造业", "机械制造"), ("物流", "物流"), ("房地产", "置业"),
    ("零售", "商贸"), ("化工", "化工"), ("电子", "电子科技"), ("纺织", "纺织"),
    ("食品", "食品"), ("建筑", "建设工程"),
)  # fmt: skip
REGIONS: Final = {
    "上海": "华东", "苏州": "华东", "杭州": "华东", "宁波": "华东", "南京": "华东",
    "无锡": "华东", "广州": "华南", "深圳": "华南", "东莞": "华南", "佛山": "华南",
    "厦门": "华南",
}  # fmt: skip

N_CORPORATES: Final = 200  # generic corporates cli-0001 .. cli-0200
N_INDIVIDUALS: Final = 110  # cli-0201 .. cli-0310
N_INTERBANK: Final = 6  # cli-0311 .. cli-0316
N_PROSPECTS: Final = 6  # cli-0317 .. cli-0322


def _cid(n: int) -> str:
    return f"cli-{n:04d}"


def _date(rng: random.Random, first_year: int = 2015, last_year: int = 2025) -> str:
    return f"{rng.randint(first_year, last_year)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _departments(bank: BankRows) -> None:
    for dept_id, name, function, model, parent in DEPARTMENTS:
        bank.departments.append(
            DepartmentRow(id=dept_id, name=name, function=function, model=model, archived=False)
        )
        if parent is not None:
            bank.direct_links.append(
                DepartmentLinkRow(fromId=dept_id, toId=parent, since="2018-01-01")
            )
    bank.linear_links = [
        DepartmentLinkRow(fromId=a, toId=b, since="2019-06-01", note=purpose)
        for a, b, purpose in LINEAR_LINKS
    ]
    bank.check_links = [
        DepartmentLinkRow(fromId=a, toId=b, since="2019-06-01", note=scope)
        for a, b, scope in CHECK_LINKS
    ]


# level, count, education, title, credit years (low, high): each satisfies the entry table.
MANAGER_PLAN: Final = (
    ("PRINCIPAL", 4, "MASTER", "SENIOR", (3, 12)),
    ("SENIOR", 10, "BACHELOR", "MIDDLE", (3, 8)),
    ("MANAGER", 18, "BACHELOR", "JUNIOR", (1, 3)),
    ("ASSISTANT", 16, "COLLEGE", "NONE", (0, 1)),
)
CLIENT_TEAMS: Final = (RM_GROUP_ID, EAST_TEAM_ID, SOUTH_TEAM_ID, MARKET_EXPANSION_GROUP_ID)


def _managers(bank: BankRows, rng: random.Random) -> dict[str, list[str]]:
    """Returns manager ids by level; corporate work goes to key accounts, retail to retail."""
    by_level: dict[str, list[str]] = defaultdict(list)
    number = 0
    for level, count, education, title, (low, high) in MANAGER_PLAN:
        bosses = by_level.get(
            {"SENIOR": "PRINCIPAL", "MANAGER": "SENIOR", "ASSISTANT": "MANAGER"}.get(level, ""), []
        )
        for i in range(count):
            number += 1
            manager_id = f"mgr-{number:03d}"
            department = RETAIL_DEPARTMENT_ID if i % 4 == 3 else CLIENT_TEAMS[i % len(CLIENT_TEAMS)]
            bank.managers.append(
                ManagerRow(
                    id=manager_id,
                    name=SURNAMES[number % len(SURNAMES)] + GIVEN[(number * 7) % len(GIVEN)],
                    level=level,
                    education=education,
                    title=title,
                    creditYears=rng.randint(low, high),
                    departmentId=department,
                    reportsToId=bosses[i % len(bosses)] if bosses else None,
                    since=_date(rng, 2012, 2024),
                )
            )
            by_level[level].append(manager_id)
    return by_level


def _corporate_name(n: int) -> tuple[str, str, str]:
    city = CITIES[n % len(CITIES)]
    brand = BRANDS[(n // len(CITIES)) % len(BRANDS)]
    industry, word = INDUSTRIES[(n * 3 + n // 7) % len(INDUSTRIES)]
    return f"{city}{brand}{word}有限公司", industry, REGIONS[city]


def _client(
    rng: random.Random, client_id: str, name: str, kind: str, industry: str | None, region: str
) -> ClientRow:
    return ClientRow(
        id=client_id,
        name=name,
        kind=kind,
        segment="EXISTING" if rng.random() < 0.7 else "NEW",
        status="ACTIVE",
        grade=None,
        riskRating=rng.randint(1, 5),
        industry=industry,
        region=region,
    )


def _clients(bank: BankRows, rng: random.Random) -> None:
    hd_names = (
        "华东钢铁集团有限公司", "华东钢铁贸易有限公司", "华东矿业有限公司",
        "华东钢铁物流有限公司", "华东钢铁置业有限公司", "华东焦化有限公司",
    )  # fmt: skip
    for client_id, name in zip(HD_STEEL_GROUP, hd_names, strict=True):
        bank.clients.append(_client(rng, client_id, name, "CORPORATE", "钢铁", "华东"))
    for n in range(1, N_CORPORATES + 1):
        name, industry, region = _corporate_name(n)
        bank.clients.append(_client(rng, _cid(n), name, "CORPORATE", industry, region))
    for n in range(N_CORPORATES + 1, N_CORPORATES + N_INDIVIDUALS + 1):
        name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 5 + n // 30) % len(GIVEN)]
        region = "华东" if n % 3 else "华南"
        bank.clients.append(_client(rng, _cid(n), name, "INDIVIDUAL", None, region))
    banks = ("苏州城市商业银行", "宁波农村商业银行", "杭州农村信用社", "东莞城市商业银行",
             "佛山农村商业银行", "无锡村镇银行")  # fmt: skip
    start = N_CORPORATES + N_INDIVIDUALS + 1
    for offset, name in enumerate(banks):
        bank.clients.append(_client(rng, _cid(start + offset), name, "INTERBANK", "金融", "华东"))
    start += N_INTERBANK
    for offset in range(N_PROSPECTS):
        name, industry, region = _corporate_name(N_CORPORATES + 40 + offset)
        prospect = _client(rng, _cid(start + offset), name.replace("有限公司", "股份有限公司"),
                           "CORPORATE", industry, region)  # fmt: skip
        prospect["status"] = "PROSPECT"
        prospect["segment"] = "NEW"
        bank.clients.append(prospect)
    # Key accounts: the group's parent and a share of corporates and interbank clients.
    for client in bank.clients:
        if client["id"] == HD_STEEL_ID:
            client["grade"] = "A"
            client["segment"] = "EXISTING"
        elif client["kind"] != "INDIVIDUAL" and client["status"] == "ACTIVE":
            draw = rng.random()
            client["grade"] = (
                "A" if draw < 0.05 else "B" if draw < 0.12 else "C" if draw < 0.2 else None
            )


def _manages(bank: BankRows, rng: random.Random, by_level: dict[str, list[str]]) -> None:
    members = {m["id"]: m["departmentId"] for m in bank.managers}
    corporate = [m for m, d in members.items() if d != RETAIL_DEPARTMENT_ID]
    retail = [m for m, d in members.items() if d == RETAIL_DEPARTMENT_ID]
    for client in bank.clients:
        pool = retail if client["kind"] == "INDIVIDUAL" else corporate
        if client["grade"] == "A":
            pool = [m for m in pool if m in by_level["PRINCIPAL"] + by_level["SENIOR"]] or pool
        primary = rng.choice(pool)
        bank.manages.append(
            ManagesRow(managerId=primary, clientId=client["id"], role="PRIMARY", since=_date(rng))
        )
        if client["status"] == "ACTIVE" and rng.random() < 0.3:
            others = [m for m in pool if m != primary]
            for secondary in rng.sample(others, rng.choice((1, 1, 2))):
                bank.manages.append(
                    ManagesRow(
                        managerId=secondary, clientId=client["id"], role="SECONDARY",
                        since=_date(rng, 2020),
                    )
                )  # fmt: skip


def _products(bank: BankRows) -> None:
    bank.products = [
        ProductRow(id=p, name=n, category=c, audience=a, riskLevel=r, departmentId=d)
        for p, n, c, a, r, d in PRODUCTS
    ]


def _fits(audience: str, kind: str) -> bool:
    if audience == "ALL":
        return True
    return audience == ("INDIVIDUAL" if kind == "INDIVIDUAL" else "CORPORATE")


# Planted co-holding patterns: holding the first makes holding the second likely.
PATTERNS: Final = (
    ("prd-payroll", "prd-cash-mgmt", 0.8),
    ("prd-working-capital", "prd-acceptance", 0.6),
    ("prd-credit-card", "prd-wealth", 0.7),
    ("prd-mortgage", "prd-insurance", 0.6),
    ("prd-wealth", "prd-fund", 0.4),
)


AUDIENCE: Final = {p[0]: p[3] for p in PRODUCTS}


def _holdings(bank: BankRows, rng: random.Random) -> None:
    for client in bank.clients:
        if client["status"] != "ACTIVE":
            continue
        kind = client["kind"]
        fitting = [p for p in PRODUCTS if _fits(p[3], kind)]
        base = "prd-deposit-retail" if kind == "INDIVIDUAL" else "prd-deposit-corp"
        held = {base}
        held.update(p[0] for p in rng.sample(fitting, rng.randint(1, 2)))
        for a, b, chance in PATTERNS:
            if a in held and rng.random() < chance and _fits(AUDIENCE[b], kind):
                held.add(b)
        for product_id in sorted(held):
            scale = 10_000 if kind == "INDIVIDUAL" else 2_000_000
            bank.holdings.append(
                HoldingRow(
                    clientId=client["id"],
                    productId=product_id,
                    balanceCents=rng.randint(1, 500) * scale * YUAN // 10,
                    since=_date(rng),
                    active=rng.random() > 0.05,
                    consented=True,
                )
            )


def compute_cross_sells(bank: BankRows, min_support: float = 0.02) -> list[CrossSellRow]:
    """The measures of every product pair from active holdings, as a refresh computes them."""
    holders: dict[str, set[str]] = defaultdict(set)
    for h in bank.holdings:
        if h["active"]:
            holders[h["productId"]].add(h["clientId"])
    clients = len(set().union(*holders.values()))
    pairs = {
        (a, b): len(holders[a] & holders[b])
        for a in sorted(holders)
        for b in sorted(holders)
        if a != b and holders[a] & holders[b]
    }
    measures = compute_measures(clients, {p: len(c) for p, c in holders.items()}, pairs)
    return [
        CrossSellRow(
            fromId=a, toId=b, support=support, confidence=confidence, lift=lift,
            pinned=(a, b) == PINNED_CROSS_SELL,
        )
        for (a, b), (support, confidence, lift) in sorted(measures.items())
        if support >= min_support and lift > 1
    ]  # fmt: skip


def _controls(bank: BankRows) -> None:
    def control(a: str, b: str, share: float, basis: str = "EQUITY") -> None:
        bank.controls.append(ControlRow(fromId=a, toId=b, share=share, basis=basis))

    for subsidiary, share in zip(HD_STEEL_GROUP[1:5], (70.0, 65.0, 100.0, 51.0), strict=True):
        control(HD_STEEL_ID, subsidiary, share)
    control("cli-hdsteel-mining", "cli-hdsteel-coke", 80.0)
    control(HD_STEEL_ID, _cid(150), 30.0)  # a minority stake: no control
    # Four more groups, parent cli-00x0 controlling the next few ids.
    for parent, size in ((10, 4), (20, 5), (30, 3), (40, 6)):
        for offset in range(1, size):
            control(_cid(parent), _cid(parent + offset), 55.0 + 5 * offset)
    control(_cid(20), _cid(30), 45.0)  # minority link between two groups
    control(_cid(41), _cid(47), 60.0, "VOTING_AGREEMENT")
    # A common controller: one person controls two otherwise unrelated companies.
    control(_cid(201), _cid(60), 75.0)
    control(_cid(201), _cid(61), 52.0)
    control(_cid(202), _cid(62), 35.0)


def _related(bank: BankRows) -> None:
    def relate(a: int, b: int, kind: str, role: str, reciprocal: str) -> None:
        bank.related.append(
            RelatedRow(
                fromId=_cid(a), toId=_cid(b), kind=kind, role=role, reciprocalRole=reciprocal
            )
        )

    for a in range(70, 90):
        relate(a, a + 20, "SUPPLY_CHAIN", "SUPPLIER", "CUSTOMER")
    for a in range(203, 219, 2):
        relate(a, a + 1, "FAMILY", "SPOUSE", "SPOUSE")
    relate(219, 220, "FAMILY", "PARENT", "CHILD")
    relate(221, 222, "FAMILY", "PARENT", "CHILD")
    for a, b in ((131, 132), (133, 134), (135, 136), (137, 138)):
        relate(a, b, "ECONOMIC_DEPENDENCE", "DEPENDENT", "SUSTAINER")
    for person, company in zip(range(223, 231), range(160, 168), strict=True):
        relate(person, company, "KEY_PERSON", "LEGAL_REPRESENTATIVE", "REPRESENTED_ENTITY")
    bank.related.append(
        RelatedRow(fromId="cli-hdsteel-trade", toId=_cid(70), kind="SUPPLY_CHAIN",
                   role="SUPPLIER", reciprocalRole="CUSTOMER")
    )  # fmt: skip


FACILITY_TYPES: Final = (
    "LOAN", "ACCEPTANCE", "LETTER_OF_CREDIT", "GUARANTEE", "DISCOUNT", "COMMITMENT",
)  # fmt: skip


class _Facilities:
    def __init__(self, bank: BankRows, rng: random.Random) -> None:
        self.bank, self.rng, self.number = bank, rng, 0

    def add(
        self,
        borrower: str,
        limit_yuan: int,
        granting: str,
        approving: str | None = APPROVAL_DEPARTMENT_ID,
        kind: str | None = None,
        facility_id: str | None = None,
        currency: str = "CNY",
    ) -> str:
        if facility_id is None:
            self.number += 1
            facility_id = f"fac-{self.number:04d}"
        limit = limit_yuan * YUAN
        self.bank.facilities.append(
            FacilityRow(
                id=facility_id,
                borrowerId=borrower,
                type=kind or FACILITY_TYPES[self.number % len(FACILITY_TYPES)],
                limitCents=limit,
                drawnCents=limit * self.rng.randint(0, 100) // 100,
                currency=currency,
                grantingDepartmentId=granting,
                approvingDepartmentId=approving,
                grantedAt=_date(self.rng, 2021),
                status="ACTIVE",
            )
        )
        return facility_id


def _facilities_and_guarantees(bank: BankRows, rng: random.Random) -> None:
    fac = _Facilities(bank, rng)
    # 华东钢铁: two departments lend to one group with no unified limit (多头授信).
    for i, member in enumerate(HD_STEEL_GROUP):
        fac.add(member, 1_200_000_000 - i * 100_000_000, RM_GROUP_ID, kind="LOAN")
        fac.add(
            member, 400_000_000, EAST_TEAM_ID, kind="ACCEPTANCE" if i % 2 else "LETTER_OF_CREDIT"
        )
    first_of: dict[str, str] = {}
    lenders = (RM_GROUP_ID, EAST_TEAM_ID, SOUTH_TEAM_ID, KEY_ACCOUNTS_DEPARTMENT_ID)
    for n in range(1, 131, 3):  # about a third of corporates
        granting = lenders[n % len(lenders)]
        first_of[_cid(n)] = fac.add(_cid(n), rng.randint(5, 300) * 1_000_000, granting)
    for member in (*GUARANTEE_CIRCLE_3, *GUARANTEE_CIRCLE_4, *MUTUAL_PAIR):
        if member not in first_of:
            first_of[member] = fac.add(
                member, rng.randint(20, 200) * 1_000_000, SOUTH_TEAM_ID, kind="LOAN"
            )
    for n in range(203, 211):  # mortgages
        fac.add(_cid(n), rng.randint(50, 300) * 10_000, RETAIL_DEPARTMENT_ID, kind="LOAN")
    for n in range(311, 314):  # interbank lines
        fac.add(_cid(n), rng.randint(5, 20) * 100_000_000, KEY_ACCOUNTS_DEPARTMENT_ID,
                kind="COMMITMENT")  # fmt: skip
    fac.add(_cid(12), 5_000_000, EAST_TEAM_ID, kind="LOAN", currency="USD")
    fac.add(_cid(13), 3_000_000, SOUTH_TEAM_ID, kind="LETTER_OF_CREDIT", currency="USD")
    for fid, borrower in zip(
        UNAPPROVED_FACILITY_IDS, (_cid(140), _cid(141), _cid(142)), strict=True
    ):
        fac.add(
            borrower, 80_000_000, EAST_TEAM_ID, approving=None, kind="DISCOUNT", facility_id=fid
        )
    fac.add(_cid(143), 60_000_000, EAST_TEAM_ID, approving=KEY_ACCOUNTS_DEPARTMENT_ID,
            kind="GUARANTEE", facility_id=NON_INDEPENDENT_APPROVAL_FACILITY_IDS[0])  # fmt: skip

    limits = {f["id"]: f["limitCents"] for f in bank.facilities}

    def guarantee(guarantor: str, facility_id: str, share: float) -> None:
        bank.guarantees.append(
            GuaranteeRow(guarantorId=guarantor, facilityId=facility_id,
                         amountCents=int(limits[facility_id] * share))
        )  # fmt: skip

    for circle in (GUARANTEE_CIRCLE_3, GUARANTEE_CIRCLE_4, MUTUAL_PAIR):
        for i, guarantor in enumerate(circle):
            guarantee(guarantor, first_of[circle[(i + 1) % len(circle)]], 0.5)
    # Ordinary guarantees come from firms that borrow nothing, so they close no circle.
    borrowers = {f["borrowerId"] for f in bank.facilities}
    guarantors = [_cid(n) for n in range(170, 200) if _cid(n) not in borrowers]
    targets = sorted(set(first_of.values()) - {first_of[c] for c in GUARANTEE_CIRCLE_3})
    for i in range(15):
        guarantee(guarantors[i % len(guarantors)], targets[(i * 7) % len(targets)], 0.3)
    guarantee(guarantors[0], bank.facilities[0]["id"], 0.1)  # someone guarantees 华东钢铁


def build_demo_bank() -> BankRows:
    rng = random.Random(SEED)
    bank = BankRows()
    _departments(bank)
    by_level = _managers(bank, rng)
    _clients(bank, rng)
    _manages(bank, rng, by_level)
    _products(bank)
    _holdings(bank, rng)
    bank.cross_sells = compute_cross_sells(bank)
    _controls(bank)
    _related(bank)
    _facilities_and_guarantees(bank, rng)
    return bank


def write_demo_csv(folder: Path = DEMO_CSV) -> None:
    """Write the demo bank as the import CSV set (what `seeds/demo_bank/` holds)."""
    bank = build_demo_bank()
    folder.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        # In the exporter's order, so export(import(demo)) reproduces these files exactly.
        rows = sorted(getattr(bank, table.section), key=table.identity_of)
        write_table(folder, table, rows)


if __name__ == "__main__":
    # Regenerate the shipped CSV set after changing the demo: python -m seeds.demo [FOLDER]
    write_demo_csv(Path(sys.argv[1]) if len(sys.argv) > 1 else DEMO_CSV)
