"""``minigan eval RUN``: evaluate a trained generator (chapter 07's mode coverage for toy mixtures, the
dataset's own figures otherwise; chapter 09 for images).

Draws ``--n`` samples (default 2500, the VEEGAN / PacGAN protocol; the dataset's own number where it has
one: 26 000 for stacked-mnist) from noise seeded by ``--seed``
(default 0, as the evaluation at the end of ``minigan train``) and prints, for ring8 / grid25: modes
covered, % high-quality samples (within 3 std of a mode), reverse KL between the modes' share of the
high-quality samples and the uniform weights; plus a histogram Jensen-Shannon divergence against as many
data samples; for images, chapter 09's metrics next to a real-vs-real baseline, and for a conditional
model (chapter 11) conditional accuracy and intra-class Fréchet distance, per class and overall, with the
samples drawn n / 10 per class; for the semi-supervised GAN (chapter 15) its discriminator's accuracy on
the held-out images next to the same network trained on the labelled images alone; for stacked-mnist
(chapter 10) the digit triples covered of 1 000 and the KL of their histogram to uniform, next to as
many real stacked images (``metrics/stacked.py``); for a translation model (chapter 12) its outputs
on the first ``--n`` held-out images (default: all 2 000) against their targets, PSNR / SSIM next to a
trivial baseline, and how often the own classifier still reads the source digit. The figures are also
``--ppl`` adds the perceptual path length in z of an unconditional image generator (DCGAN; chapter
14), which a style-based run reports in w and z anyway, with its truncation sweep. The figures are
also written to RUN/eval.json (strict JSON: a NaN or infinite figure is stored as null, with a note). ``--n``
below what the dataset's evaluation needs (or not a multiple of 10 for a conditional model), a dataset
too small for it, or more samples than fit in memory stop the command before anything is computed.
"""

from __future__ import annotations

from .common import CLIError, check_device, check_eval_n, check_sample_memory, evaluate_run, load_run
from .rundir import RunDir

# the samples, a reference set as large, and the evaluation's working arrays (distances to the modes)
EVAL_COPIES = 4
DEFAULT_N = 2500  # the VEEGAN / PacGAN protocol, for a dataset that names no number of its own


def add_parser(sub):
    p = sub.add_parser(
        "eval", help="evaluate a trained run (mode coverage)", description=__doc__.split("\n")[0]
    )
    p.add_argument("run", help="run directory written by minigan train")
    p.add_argument(
        "--n", type=int, default=None,
        help=f"number of samples (default {DEFAULT_N}; stacked-mnist: 26000, as in PacGAN)",
    )  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    p.add_argument(
        "--ppl", action="store_true",
        help="also the perceptual path length in z (unconditional image runs; chapter 14)",
    )  # fmt: skip
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.n is not None and args.n < 1:
        raise CLIError(f"--n must be >= 1, got {args.n}", 2)
    if args.seed < 0:
        raise CLIError(f"--seed must be >= 0, got {args.seed}", 2)
    device = check_device(args.device)
    run = load_run(args.run, device)
    config, spec, data, state = run.config, run.spec, run.data, run.state
    if spec.evaluate is None and run.model.evaluate is None:
        raise CLIError(f"dataset {config['data']} has no evaluation")
    default_n = spec.eval_samples or DEFAULT_N
    if args.n is None:
        args.n = default_n
    if args.n < spec.min_eval_samples:
        raise CLIError(
            f"--n {args.n} is too few to evaluate {config['data']}: it needs at least "
            f"{spec.min_eval_samples} samples (the default, {default_n}, is the "
            f"{'PacGAN' if spec.eval_samples else 'VEEGAN / PacGAN'} protocol)",
            2,
        )
    check_eval_n(args.n, run.model)
    problem = spec.eval_problem(data) if spec.eval_problem is not None else None
    if problem is not None:
        raise CLIError(f"cannot evaluate {args.run}: {problem}")
    # path length needs an unconditional noise-to-image G: dcgan, stylegan (not sgan, cgan, pix2pix ...)
    unconditional_images = spec.kind == "image" and not run.variant.conditional
    if args.ppl and not (unconditional_images and (run.model.evaluate is None or run.variant.style_based)):
        raise CLIError(
            f"--ppl: {args.run} is not an unconditional image generator ({config['data']}, "
            f"{config['model']}); path length needs one (dcgan, stylegan)",
            2,
        )
    if not run.variant.translation:  # a translation model reads held-out images instead
        check_sample_memory(args.n, config, data, device, EVAL_COPIES)
    try:
        result = evaluate_run(run, args.n, args.seed, device, state.get("step"))
    except MemoryError:
        raise CLIError(f"out of memory evaluating --n {args.n} samples; use a smaller --n") from None
    if args.ppl and "path_length" not in result:
        from ..gan.style_eval import format_style, path_length
        from ..metrics.classifier import load_or_train, stderr_log

        clf = load_or_train(data.images, data.labels, dataset=data.name, log=stderr_log)
        result["path_length"] = {"z": path_length(run.G, clf, "z", seed=args.seed)}
        result["report"] += "\n" + format_style({}, result["path_length"])
    step = state.get("step")
    game = f"{config['model']}, {config['loss']}"
    print(f"{args.run}: {config['data']}, {game}, step {step}, {args.n} samples (seed {args.seed})")
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
    rd = RunDir(args.run)
    try:
        rd.write_json(RunDir.EVAL, {"step": step, "n_samples": args.n, "seed": args.seed, **result})
    except OSError as err:
        raise CLIError(
            f"cannot write {rd / RunDir.EVAL}: {err.strerror or err}; the figures above were not saved"
        ) from None
    return 0
