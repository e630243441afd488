"""A generated bank of any size, deterministic for a seed, produced and loaded in chunks.

`python -m seeds.generate --clients 100000 --seed 7` loads it into the Neo4j rmgraph finds (see
README); the demo data is not touched when `--state-dir` names another managed server.

Clients come in blocks of 100 (ids `g0000000`...): 43 corporates, 2 interbank, 55 individuals.
Everything about a block is drawn from a generator seeded by (seed, block), so the bank is the
same however it is chunked, and a block only links to clients inside it. Within a block:
corporate groups with power-law sizes and control shares (some two levels deep, some lent to by
two teams: 多头授信), supply-chain links, families (spouses, parents), key persons (every firm's
legal representative, some directors) and economic dependence, guarantees with a mutual pair in
every block and circles of three and four in some, firms' credit personally guaranteed by their
legal representative, holdings of about three products per client with planted co-holding
patterns, facilities for about a third of corporates and retail loans for four in ten
individuals, support managers for about half the clients: about 9.4 relationships per client.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from graph.bank_rows import (
    BankRows,
    ClientRow,
    ControlRow,
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

BLOCK: Final = 100
CORPORATES: Final = 43
INTERBANK: Final = 2
CLIENTS_PER_MANAGER: Final = 150
REGIONS: Final = ("east", "south", "north", "west", "central", "northeast")
REGION_NAMES: Final = ("华东", "华南", "华北", "西部", "华中", "东北")
GROUP_SIZES: Final = (1, 1, 1, 1, 1, 2, 2, 3, 4, 6, 10)  # drawn uniformly: a heavy tail

PRODUCTS: Final = (
    # id, name, category, audience, risk, popularity weight
    ("p-deposit-corp", "单位活期存款", "DEPOSIT", "CORPORATE", 1, 30),
    ("p-term-corp", "单位定期存款", "DEPOSIT", "CORPORATE", 1, 8),
    ("p-working-capital", "流动资金贷款", "LOAN", "CORPORATE", 3, 6),
    ("p-acceptance", "银行承兑汇票", "SETTLEMENT", "CORPORATE", 3, 3),
    ("p-lc", "国内信用证", "SETTLEMENT", "CORPORATE", 3, 2),
    ("p-cash-mgmt", "现金管理", "SETTLEMENT", "CORPORATE", 1, 3),
    ("p-payroll", "代发工资", "SETTLEMENT", "CORPORATE", 1, 5),
    ("p-fx", "外汇买卖", "FX", "ALL", 3, 2),
    ("p-deposit", "个人活期存款", "DEPOSIT", "INDIVIDUAL", 1, 30),
    ("p-mortgage", "个人住房贷款", "LOAN", "INDIVIDUAL", 2, 5),
    ("p-card", "信用卡", "CARD", "INDIVIDUAL", 2, 10),
    ("p-wealth", "理财产品", "WEALTH", "ALL", 3, 6),
    ("p-insurance", "代理保险", "INSURANCE", "INDIVIDUAL", 2, 3),
    ("p-fund", "基金代销", "BROKERAGE", "INDIVIDUAL", 4, 3),
    ("p-gold", "贵金属", "WEALTH", "INDIVIDUAL", 4, 1),
    ("p-mobile", "手机银行", "SETTLEMENT", "ALL", 1, 12),
)
# Planted co-holding patterns: holding the first makes the second likely.
PATTERNS: Final = (
    ("p-payroll", "p-cash-mgmt", 0.75),
    ("p-working-capital", "p-acceptance", 0.6),
    ("p-acceptance", "p-lc", 0.5),
    ("p-card", "p-wealth", 0.6),
    ("p-wealth", "p-fund", 0.5),
    ("p-mortgage", "p-insurance", 0.65),
    ("p-fund", "p-gold", 0.3),
)
AUDIENCE: Final = {p[0]: p[3] for p in PRODUCTS}
RISK: Final = {p[0]: p[4] for p in PRODUCTS}


def client_id(n: int) -> str:
    return f"g{n:07d}"


def _fits(product: str, kind: str) -> bool:
    audience = AUDIENCE[product]
    return audience == "ALL" or audience == ("INDIVIDUAL" if kind == "INDIVIDUAL" else "CORPORATE")


def manager_count(clients: int) -> int:
    return max(len(REGIONS) * 2, clients // CLIENTS_PER_MANAGER)


def organisation(clients: int) -> BankRows:
    """Departments by region and product with all three link kinds, managers, products."""
    bank = BankRows()
    depts = [
        ("gd-hq", "总行", "MANAGEMENT", "COMPREHENSIVE", None),
        ("gd-ka", "大客户部", "CLIENT", "CLIENT", "gd-hq"),
        ("gd-retail", "零售银行部", "CLIENT", "CLIENT", "gd-hq"),
        ("gd-risk", "风险管理部", "RISK", "COMPREHENSIVE", "gd-hq"),
        ("gd-approval", "授信审批部", "APPROVAL", "COMPREHENSIVE", "gd-hq"),
        ("gd-corp-products", "公司业务产品部", "PRODUCT", "PRODUCT", "gd-hq"),
        ("gd-retail-products", "个人金融产品部", "PRODUCT", "PRODUCT", "gd-hq"),
        ("gd-markets", "金融市场部", "PRODUCT", "PRODUCT", "gd-hq"),
        ("gd-operations", "运营管理部", "OPERATIONS", "COMPREHENSIVE", "gd-hq"),
    ]
    for code, name in zip(REGIONS, REGION_NAMES, strict=True):
        depts.append((f"gd-ka-{code}", f"{name}对公团队", "CLIENT", "REGION", "gd-ka"))
        depts.append((f"gd-retail-{code}", f"{name}零售团队", "CLIENT", "REGION", "gd-retail"))
    for dept_id, name, function, model, parent in depts:
        bank.departments.append(
            DepartmentRow(id=dept_id, name=name, function=function, model=model)
        )
        if parent:
            bank.direct_links.append(
                DepartmentLinkRow(fromId=dept_id, toId=parent, since="2015-01-01")
            )
    for source, target, note in (
        ("gd-ka", "gd-corp-products", "对公产品需求移交"),
        ("gd-ka", "gd-markets", "资金需求移交"),
        ("gd-retail", "gd-retail-products", "个人产品需求移交"),
        ("gd-ka", "gd-operations", "作业移交"),
        ("gd-retail", "gd-operations", "作业移交"),
    ):
        bank.linear_links.append(
            DepartmentLinkRow(fromId=source, toId=target, since="2016-01-01", note=note)
        )
    for checker in ("gd-risk", "gd-approval"):
        for checked in ("gd-ka", "gd-retail"):
            bank.check_links.append(
                DepartmentLinkRow(fromId=checker, toId=checked, since="2016-01-01", note="审贷分离")
            )
    rng = random.Random(f"org-{clients}")
    levels = ("PRINCIPAL", "SENIOR", "MANAGER", "ASSISTANT")
    for n in range(manager_count(clients)):
        level = levels[0] if n % 20 == 0 else levels[1] if n % 5 == 0 else levels[2 + n % 2]
        region = REGIONS[n % len(REGIONS)]
        team = f"gd-ka-{region}" if n % 2 == 0 else f"gd-retail-{region}"
        bank.managers.append(
            ManagerRow(
                id=f"gm{n:05d}",
                name=f"经理{n:05d}",
                level=level,
                education="MASTER" if level == "PRINCIPAL" else "BACHELOR",
                title="SENIOR" if level == "PRINCIPAL" else "MIDDLE",
                creditYears=rng.randint(3, 12) if level in levels[:2] else rng.randint(1, 3),
                departmentId=team,
                reportsToId=None if level == "PRINCIPAL" else f"gm{(n // 20) * 20:05d}",
                since="2018-01-01",
            )
        )
    for pid, name, category, audience, risk, _ in PRODUCTS:
        dept = "gd-retail-products" if audience == "INDIVIDUAL" else "gd-corp-products"
        bank.products.append(
            ProductRow(
                id=pid,
                name=name,
                category=category,
                audience=audience,
                riskLevel=risk,
                departmentId=dept if category != "FX" else "gd-markets",
            )
        )
    return bank


def _pick_products(rng: random.Random, kind: str) -> set[str]:
    fitting = [p for p in PRODUCTS if _fits(p[0], kind)]
    weights = [p[5] for p in fitting]
    held = {"p-deposit" if kind == "INDIVIDUAL" else "p-deposit-corp"}
    while len(held) < rng.choice((2, 3, 3, 4)):
        held.add(rng.choices(fitting, weights)[0][0])
    for a, b, chance in PATTERNS:
        if a in held and _fits(b, kind) and rng.random() < chance:
            held.add(b)
    return held


def block(seed: int, number: int, managers: int) -> BankRows:
    """Everything about clients number*100 .. number*100 + 99."""
    rng = random.Random(seed * 1_000_003 + number)
    bank = BankRows()
    base = number * BLOCK
    ids = [client_id(base + i) for i in range(BLOCK)]
    kinds = ["CORPORATE"] * CORPORATES + ["INTERBANK"] * INTERBANK
    kinds += ["INDIVIDUAL"] * (BLOCK - len(kinds))
    region = REGIONS[number % len(REGIONS)]
    for i, (cid, kind) in enumerate(zip(ids, kinds, strict=True)):
        bank.clients.append(
            ClientRow(
                id=cid,
                name=f"{'企业' if kind != 'INDIVIDUAL' else '客户'}{base + i:07d}",
                kind=kind,
                segment="EXISTING" if rng.random() < 0.7 else "NEW",
                status="ACTIVE",
                grade=rng.choice(("A", "B", "C"))
                if kind != "INDIVIDUAL" and rng.random() < 0.15
                else None,
                riskRating=rng.randint(1, 5),
                industry=None,
                region=REGION_NAMES[number % len(REGIONS)],
            )
        )
        # Managers by region: corporate clients to even (key-account) managers, others to odd.
        pool = [m for m in range(managers) if (m % 2 == 0) == (kind != "INDIVIDUAL")]
        primary = pool[rng.randrange(len(pool))]
        bank.manages.append(
            ManagesRow(
                managerId=f"gm{primary:05d}", clientId=cid, role="PRIMARY", since="2020-01-01"
            )
        )
        if rng.random() < 0.55:  # team coverage: a support manager for about half
            second = pool[rng.randrange(len(pool))]
            if second != primary:
                bank.manages.append(
                    ManagesRow(
                        managerId=f"gm{second:05d}",
                        clientId=cid,
                        role="SECONDARY",
                        since="2022-01-01",
                    )
                )
        for product in sorted(_pick_products(rng, kind)):
            bank.holdings.append(
                HoldingRow(
                    clientId=cid,
                    productId=product,
                    since="2021-01-01",
                    balanceCents=rng.randint(1, 10_000) * 100_00,
                    active=rng.random() > 0.03,
                )
            )
    _groups(bank, rng, ids)
    _links(bank, rng, ids)
    _credit(bank, rng, ids, region)
    return bank


def _groups(bank: BankRows, rng: random.Random, ids: list[str]) -> None:
    start = 0
    while start < CORPORATES:
        size = min(rng.choice(GROUP_SIZES), CORPORATES - start)
        parent = ids[start]
        for k in range(1, size):
            owner = ids[start + 1] if k >= 4 and size > 4 else parent  # big groups: two levels
            bank.controls.append(
                ControlRow(
                    fromId=owner,
                    toId=ids[start + k],
                    share=float(rng.randint(51, 100)),
                    basis="EQUITY" if rng.random() < 0.9 else "VOTING_AGREEMENT",
                )
            )
        if size == 1 and rng.random() < 0.2 and start + 1 < CORPORATES:
            bank.controls.append(
                ControlRow(
                    fromId=parent,
                    toId=ids[start + 1],
                    share=float(rng.randint(10, 49)),
                    basis="EQUITY",
                )
            )
        start += size


def _links(bank: BankRows, rng: random.Random, ids: list[str]) -> None:
    # Two firms are linked once, in one direction (as relateClients and the import keep them).
    suppliers: set[tuple[int, int]] = set()
    for i in range(CORPORATES):
        for j in rng.sample(range(CORPORATES), 4):
            if j != i and (j, i) not in suppliers:
                suppliers.add((i, j))
                bank.related.append(
                    RelatedRow(
                        fromId=ids[i],
                        toId=ids[j],
                        kind="SUPPLY_CHAIN",
                        role="SUPPLIER",
                        reciprocalRole="CUSTOMER",
                    )
                )
    people = list(range(CORPORATES + INTERBANK, BLOCK))
    for a, b in zip(people[0::2], people[1::2], strict=False):
        if rng.random() < 0.7:
            bank.related.append(
                RelatedRow(
                    fromId=ids[a],
                    toId=ids[b],
                    kind="FAMILY",
                    role="SPOUSE",
                    reciprocalRole="SPOUSE",
                )
            )
    for a, b in zip(people[0::3], people[2::3], strict=False):
        if rng.random() < 0.5:
            bank.related.append(
                RelatedRow(
                    fromId=ids[a],
                    toId=ids[b],
                    kind="FAMILY",
                    role="PARENT",
                    reciprocalRole="CHILD",
                )
            )
    # Every firm has a legal representative among the block's individuals (who also guarantee
    # its credit, see _credit); a third have an individual director as well.
    for k in range(CORPORATES):
        bank.related.append(
            RelatedRow(
                fromId=ids[legal_representative(k)],
                toId=ids[k],
                kind="KEY_PERSON",
                role="LEGAL_REPRESENTATIVE",
                reciprocalRole="REPRESENTED_ENTITY",
            )
        )
        director = people[(k * 7 + 3) % len(people)]
        if k % 3 == 0 and director != legal_representative(k):
            bank.related.append(
                RelatedRow(
                    fromId=ids[director],
                    toId=ids[k],
                    kind="KEY_PERSON",
                    role="DIRECTOR",
                    reciprocalRole="DIRECTED_ENTITY",
                )
            )
    for a, b in ((40, 41), (38, 39)):
        bank.related.append(
            RelatedRow(
                fromId=ids[a],
                toId=ids[b],
                kind="ECONOMIC_DEPENDENCE",
                role="DEPENDENT",
                reciprocalRole="SUSTAINER",
            )
        )


def legal_representative(firm: int) -> int:
    """The individual (index in the block) who represents firm `firm`."""
    people = BLOCK - CORPORATES - INTERBANK
    return CORPORATES + INTERBANK + firm % people


def _credit(bank: BankRows, rng: random.Random, ids: list[str], region: str) -> None:
    first_facility: dict[str, str] = {}
    other_region = REGIONS[(REGIONS.index(region) + 1) % len(REGIONS)]
    for i in range(CORPORATES + INTERBANK):
        if i % 3 and i not in (20, 21, 22, 23, 24, 25, 26):  # a third, plus the guarantee firms
            continue
        for k in range(rng.choice((1, 1, 2))):
            fid = f"gf{ids[i][1:]}{k}"
            limit = rng.randint(1, 500) * 1_000_000 * 100
            # Some borrowers get a second line from another region's team: 多头授信.
            team = f"gd-ka-{other_region if k == 1 and rng.random() < 0.5 else region}"
            bank.facilities.append(
                FacilityRow(
                    id=fid,
                    borrowerId=ids[i],
                    type=rng.choice(
                        (
                            "LOAN",
                            "ACCEPTANCE",
                            "LETTER_OF_CREDIT",
                            "GUARANTEE",
                            "DISCOUNT",
                            "COMMITMENT",
                        )
                    ),
                    limitCents=limit,
                    drawnCents=limit * rng.randint(0, 100) // 100,
                    currency="CNY",
                    grantingDepartmentId=team,
                    approvingDepartmentId=None if rng.random() < 0.02 else "gd-approval",
                    grantedAt="2023-06-01",
                )
            )
            first_facility.setdefault(ids[i], fid)

    def guarantee(guarantor: int, borrower: int) -> None:
        fid = first_facility[ids[borrower]]
        bank.guarantees.append(
            GuaranteeRow(
                guarantorId=ids[guarantor],
                facilityId=fid,
                amountCents=rng.randint(1, 100) * 1_000_000,
            )
        )

    guarantee(20, 21)
    guarantee(21, 20)  # a mutual pair in every block
    number = int(ids[0][1:]) // BLOCK
    if number % 3 == 0:
        for a, b in ((22, 23), (23, 24), (24, 22)):
            guarantee(a, b)
    if number % 7 == 0:
        for a, b in ((22, 25), (25, 26), (26, 23), (23, 22)):
            guarantee(a, b)
    # Firms' credit is personally guaranteed by their legal representative, a usual condition of
    # Chinese corporate lending; nobody guarantees individuals, so this closes no circle.
    for facility in list(bank.facilities):
        firm = ids.index(facility["borrowerId"])
        if firm < CORPORATES:
            bank.guarantees.append(
                GuaranteeRow(
                    guarantorId=ids[legal_representative(firm)],
                    facilityId=facility["id"],
                    amountCents=facility["limitCents"] * rng.randint(10, 100) // 100,
                )
            )
    # Retail credit: mortgages and consumer loans for about four in ten individuals.
    for i in range(CORPORATES + INTERBANK, BLOCK):
        if rng.random() < 0.4:
            limit = rng.randint(5, 300) * 10_000 * 100
            bank.facilities.append(
                FacilityRow(
                    id=f"gf{ids[i][1:]}r",
                    borrowerId=ids[i],
                    type="LOAN",
                    limitCents=limit,
                    drawnCents=limit * rng.randint(20, 100) // 100,
                    currency="CNY",
                    grantingDepartmentId=f"gd-retail-{region}",
                    approvingDepartmentId="gd-approval",
                    grantedAt="2024-03-01",
                )
            )
    borrowers = sorted(first_facility)
    for _ in range(5):
        guarantor = rng.randrange(CORPORATES + INTERBANK, BLOCK - 1)  # individuals guarantee
        bank.guarantees.append(
            GuaranteeRow(
                guarantorId=ids[guarantor],
                facilityId=first_facility[rng.choice(borrowers)],
                amountCents=rng.randint(1, 50) * 1_000_000,
            )
        )


def chunks(clients: int, seed: int, chunk_clients: int = 10_000) -> Iterator[BankRows]:
    """The organisation first, then the clients a chunk at a time."""
    yield organisation(clients)
    managers = manager_count(clients)
    blocks = (clients + BLOCK - 1) // BLOCK
    per_chunk = max(chunk_clients // BLOCK, 1)
    for first in range(0, blocks, per_chunk):
        chunk = BankRows()
        for number in range(first, min(first + per_chunk, blocks)):
            part = block(seed, number, managers)
            for name, rows in vars(part).items():
                getattr(chunk, name).extend(rows)
        yield chunk


def main(argv: list[str] | None = None) -> None:
    from graph.bulk_load import load_bank
    from graph.db import open_driver
    from graph.migrations import migrate
    from graph.progress import Progress
    from graph.provision import provide_neo4j
    from graph.settings import Neo4jSettings

    parser = argparse.ArgumentParser(prog="python -m seeds.generate", description=__doc__)
    parser.add_argument("--clients", type=int, default=100_000, help="1,000 to 1,000,000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="state folder of a managed Neo4j to load into"
    )
    args = parser.parse_args(argv)
    if not 1_000 <= args.clients <= 1_000_000:
        parser.error("--clients must be between 1,000 and 1,000,000")
    database = Neo4jSettings().database
    with (
        provide_neo4j(args.state_dir) as conn,
        open_driver(conn.uri, conn.user, conn.password) as driver,
    ):
        migrate(driver, database)
        estimate = args.clients * 94 // 10  # rows per client in the generated bank
        progress = Progress(estimate)
        for chunk in chunks(args.clients, args.seed):
            load_bank(driver, database, chunk, on_progress=progress)
        progress.finish()
        print(f"loaded {progress.done} rows for {args.clients} clients", file=sys.stderr)


if __name__ == "__main__":
    main()
