import time
from sqlalchemy import insert, select, func, text
from bounty.models import Bounty, BountyCategory, Reservation, utcnow
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import bounty_queries as q
from tests import workflow_factories as wf

def test_probe(pg_url):
    e = make_engine(pg_url); s = make_sessionmaker(e)()
    pool = wf.reference(s)
    b = wf.open_bounty(s)
    cat = s.execute(select(BountyCategory.id).where(BountyCategory.code=="bug_fix")).scalar_one()
    s.execute(insert(Bounty), [dict(title=f"B {i}", description="d", category_id=cat, pool_id=pool.id, amount_minor=100000+i, currency="EUR", status="open", claim_hours=336, published_at=b.published_at) for i in range(10000)])
    s.commit()
    s.execute(text("ANALYZE"))
    viewer = wf.contributor(s, "dora")
    now = utcnow()
    query = q._filtered(q._rows_query(viewer, now), q.BountyFilter(), now)
    ordered = q._ordered(query, "newest").limit(25)
    cnt = select(func.count()).select_from(query.order_by(None).subquery())
    for name, stmt in (("page", ordered), ("count", cnt)):
        compiled = stmt.compile(e, compile_kwargs={"literal_binds": True})
        print(name, compiled)
        for row in s.execute(text("EXPLAIN ANALYZE " + str(compiled))):
            print(row[0])
    e.dispose()
