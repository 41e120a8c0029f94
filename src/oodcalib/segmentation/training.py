"""Training the 2D segmentation U-Net: seeded, resumable, best checkpoint by val Dice."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import torch

from oodcalib.atomic import load_torch, naming_full_disk, read_cache, save_torch, write_text
from oodcalib.config import ModelConfig, TrainConfig
from oodcalib.datasets.case import NUM_CLASSES, Case
from oodcalib.metrics import dice_score
from oodcalib.progress import progress
from oodcalib.segmentation.acceleration import Placement
from oodcalib.segmentation.augmentation import augment_batch
from oodcalib.segmentation.batching import training_logits
from oodcalib.segmentation.compilation import compile_unet
from oodcalib.segmentation.device import to_device
from oodcalib.segmentation.inference import predict_logits
from oodcalib.segmentation.losses import get_loss
from oodcalib.segmentation.unet import UNet

BEST = "checkpoint.pt"
LAST = "last.pt"


def stack_slices(cases: list[Case]) -> tuple[torch.Tensor, torch.Tensor]:
    """All slices of ``cases`` as ``(N, 1, H, W)`` images and ``(N, H, W)`` labels."""
    images = np.concatenate([c.image for c in cases])[:, None]
    labels = np.concatenate([c.label for c in cases])
    return torch.from_numpy(images.astype(np.float32)), torch.from_numpy(labels.astype(np.int64))


def validation_dice(model: torch.nn.Module, cases: list[Case]) -> float:
    """Mean over validation scans of the per-scan mean foreground Dice."""
    scores = [dice_score(np.moveaxis(predict_logits(model, c.image), 1, 0), c.label) for c in cases]
    return float(np.nanmean(scores))


def train_segmenter(
    train_cases: list[Case],
    val_cases: list[Case],
    model_config: ModelConfig,
    train_config: TrainConfig,
    out_dir: Path,
    seed: int,
    *,
    desc: str = "train",
    placement: Placement | None = None,
) -> Path:
    """Train a U-Net on normalised cases and return the path of its best checkpoint.

    The checkpoint with the highest validation Dice is kept as ``checkpoint.pt``; the
    latest state (with optimiser and RNG) as ``last.pt``, from which an interrupted run
    resumes. A finished training (``checkpoint.pt`` with ``done``) is not redone.

    Args:
        train_cases: Normalised training cases (image in ``[0, 1]``, label present).
        val_cases: Normalised validation cases.
        model_config: The U-Net's architecture (and whether it is compiled).
        train_config: Loss, schedule, batches, augmentation and threads.
        out_dir: Where checkpoints and ``train_log.csv`` go.
        seed: Seed of initialisation, batch order and augmentation.
        desc: Label of the progress bar.
        placement: The device the net trains on, and its speed levers there (default:
            the CPU, float32). The batches are drawn and augmented on the CPU from the
            seeded generator, and the net is initialised there, so the seed fixes them
            on every device; checkpoints hold CPU tensors.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    best_path, last_path = out_dir / BEST, out_dir / LAST
    had_best = best_path.exists()
    finished = read_cache(best_path, load_torch, "checkpoint")
    if finished is not None and finished.get("done"):
        return best_path
    if had_best and finished is None:  # a damaged best net: train the fold again
        last_path.unlink(missing_ok=True)
        (out_dir / "train_log.csv").unlink(missing_ok=True)
    tc, mc = train_config, model_config
    if tc.num_threads:
        torch.set_num_threads(tc.num_threads)
    architecture: dict[str, Any] = {
        "in_channels": 1,
        "num_classes": NUM_CLASSES,
        "width": mc.width,
        "depth": mc.depth,
        "dropout": mc.dropout,
    }
    placement = placement or Placement()
    device = placement.device
    torch.manual_seed(seed)
    with torch.device("cpu"):  # the same initial weights on every device
        model = UNet(**architecture)
    placement.place(model)
    if mc.compile:
        compile_unet(model)
    optimiser = torch.optim.Adam(model.parameters(), lr=tc.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=tc.iterations)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    scaler = torch.amp.GradScaler(device.type) if placement.grad_scaling else None
    loss_fn = get_loss(tc.loss, **tc.loss_params)
    images, labels = stack_slices(train_cases)
    start, best = 0, -1.0
    state = read_cache(last_path, load_torch, "training state")
    if state is not None:
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        start, best = state["iteration"], state["best"]
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
    log_path = out_dir / "train_log.csv"
    _trim_log(log_path, start)  # rows logged after the state resumed from are logged again
    bar = progress(range(start, tc.iterations), desc=desc, initial=start, total=tc.iterations)
    running = []
    model.train()
    for it in bar:
        index = torch.randint(
            0, images.shape[0], (tc.batch_size,), generator=generator, device="cpu"
        )
        x, y = images[index], labels[index]
        if tc.augment:
            x, y = augment_batch(x, y, generator)
        x, y = to_device(x, device), to_device(y, device)
        loss = loss_fn(training_logits(model, x), y)
        optimiser.zero_grad(set_to_none=True)
        if scaler is None:
            loss.backward()
            optimiser.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimiser)
            scaler.update()
        scheduler.step()
        running.append(loss.detach())  # read at validation: no GPU sync per step
        if (it + 1) % tc.val_every == 0 or it + 1 == tc.iterations:
            dice = validation_dice(model, val_cases)
            model.train()
            improved = dice > best
            best = max(best, dice)
            if improved:
                _save(best_path, model, architecture, iteration=it + 1, val_dice=dice)
            _append_log(log_path, it + 1, float(np.mean([v.item() for v in running])), dice)
            running = []
            bar.set_postfix(loss=f"{loss.item():.3f}", val_dice=f"{dice:.3f}", best=f"{best:.3f}")
            _save(
                last_path,
                model,
                architecture,
                iteration=it + 1,
                best=best,
                optimiser=optimiser.state_dict(),
                scheduler=scheduler.state_dict(),
                generator=generator.get_state(),
                **({"scaler": scaler.state_dict()} if scaler is not None else {}),
            )
    bar.close()
    state = load_torch(best_path)
    state["done"] = True
    _atomic_save(state, best_path)
    last_path.unlink(missing_ok=True)
    return best_path


def _save(path: Path, model: torch.nn.Module, architecture: dict, **extra) -> None:
    weights = {k: v.cpu() for k, v in model.state_dict().items()}  # loads on any device
    _atomic_save({"model": weights, "architecture": architecture, **extra}, path)


def _atomic_save(obj: dict, path: Path) -> None:
    save_torch(path, obj)


def _trim_log(path: Path, start: int) -> None:
    """Keep the rows of ``train_log.csv`` up to iteration ``start``, each whole.

    A kill may have left rows logged after the last saved state (they are logged again
    on the way) or a half-written row.
    """
    if not path.is_file():
        return
    with path.open(newline="") as f:  # csv's own line ends (\r\n) kept as they are
        lines = f.read().splitlines(keepends=True)
    if not lines or not lines[0].endswith("\n"):  # not even a whole header
        path.unlink()
        return
    kept = lines[:1] + [
        line
        for line in lines[1:]
        if line.endswith("\n")
        and line.split(",", 1)[0].isdigit()
        and int(line.split(",", 1)[0]) <= start
    ]
    if kept != lines:
        write_text(path, "".join(kept))


def _append_log(path: Path, iteration: int, loss: float, dice: float) -> None:
    new = not path.exists()
    with naming_full_disk(path), path.open("a", newline="") as f:
        writer = csv.writer(f)
        if new:
            writer.writerow(["iteration", "train_loss", "val_dice"])
        writer.writerow([iteration, f"{loss:.6f}", f"{dice:.6f}"])
