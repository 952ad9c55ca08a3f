"""Data products of a run: its recorded episodes, replayed and re-verified, as SFT and DPO datasets
(``zeroforge export``). ``episodes`` reads and replays a run's episode files, ``records`` turns a verified episode
into an SFT record and step-level DPO pairs, ``writer`` writes them as JSONL, Parquet or a Hugging Face dataset with
a dataset card."""

from zeroforge.exports.episodes import RunEpisode, count_run_episodes, read_run_episodes
from zeroforge.exports.records import dpo_pairs, sft_record
from zeroforge.exports.writer import FORMATS, ExportSummary, export_run

__all__ = ["FORMATS", "ExportSummary", "RunEpisode", "count_run_episodes", "dpo_pairs", "export_run",
           "read_run_episodes", "sft_record"]
