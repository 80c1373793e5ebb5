"""``minigan eval RUN``: evaluate a trained generator (chapter 07's mode coverage for toy mixtures, the
dataset's own figures otherwise).

Draws ``--n`` samples (default 2500, the VEEGAN / PacGAN protocol) from noise seeded by ``--seed``
(default 0, as the evaluation at the end of ``minigan train``) and prints, for ring8 / grid25: modes
covered, % high-quality samples (within 3 std of a mode), reverse KL between the modes' share of the
high-quality samples and the uniform weights; plus a histogram Jensen-Shannon divergence against as many
data samples. The figures are also written to RUN/eval.json.
"""

from __future__ import annotations

from .common import CLIError, check_device, generate, load_run
from .rundir import RunDir


def add_parser(sub):
    p = sub.add_parser(
        "eval", help="evaluate a trained run (mode coverage)", description=__doc__.split("\n")[0]
    )
    p.add_argument("run", help="run directory written by minigan train")
    p.add_argument("--n", type=int, default=2500, help="number of samples (default 2500)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.n < 1:
        raise CLIError(f"--n must be >= 1, got {args.n}", 2)
    if args.seed < 0:
        raise CLIError(f"--seed must be >= 0, got {args.seed}", 2)
    device = check_device(args.device)
    config, spec, data, G, D, state = load_run(args.run, device)
    if spec.evaluate is None:
        raise CLIError(f"dataset {config['data']} has no evaluation")
    x = generate(G, args.n, config["z_dim"], args.seed, device)
    result = spec.evaluate(data, x)
    step = state.get("step")
    print(f"{args.run}: {config['data']}, {config['loss']}, step {step}, {args.n} samples (seed {args.seed})")
    if "modes_covered" in result:
        print(f"  modes covered      {result['modes_covered']} / {result['n_modes']}")
        print(f"  high quality       {100 * result['high_quality']:.1f} %")
        print(f"  reverse KL         {result['reverse_kl']:.4f}")
    if "jsd_hist" in result:
        print(f"  histogram JSD      {result['jsd_hist']:.4f} nats")
    if not {"modes_covered", "jsd_hist", "report"} & set(result):
        print(f"  {result['summary']}")  # other datasets (images) summarise themselves
    if "report" in result:  # image data: each metric next to its real-vs-real baseline
        print(result["report"])
    RunDir(args.run).write_json(RunDir.EVAL, {"step": step, "n_samples": args.n, "seed": args.seed, **result})
    return 0
