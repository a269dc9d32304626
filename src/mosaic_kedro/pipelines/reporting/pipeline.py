"""The ``reporting`` pipeline.

auc_table -> rho per seed -> rho table (+ bootstrap intervals from mia_scores)
-> figures (AUC vs nu, AUC vs R, rho vs R, rho vs Levenshtein, ROC, training curves)
+ the SlimPajama figures -> secondary tables -> the report: report.md (figures linked
from report_figures/) and a self-contained report.html. Every figure node also
returns its report block (the figure and a caption, in memory) that the report node
takes, since Kedro's matplotlib dataset is write-only.

All nodes sit in one namespace, ``reporting``, without prefixing their datasets: the
namespace only groups them, so ``kedro airflow create --group-by namespace`` makes the
report one task, and the in-memory report blocks never cross a task boundary.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from mosaic_kedro.pipelines.reporting import nodes

PARAMS = "params:reporting"


def create_pipeline(**kwargs) -> Pipeline:
    """Build the reporting pipeline (it does not depend on the grid's size)."""
    return Pipeline(
        [
            node(
                nodes.prepare_auc_table,
                ["auc_table", PARAMS],
                "reporting_auc_table",
                name="prepare_auc_table",
            ),
            node(
                nodes.compute_rho_per_seed,
                ["reporting_auc_table", PARAMS],
                "rho_per_seed",
                name="compute_rho_per_seed",
            ),
            node(
                nodes.compute_rho_bootstrap,
                ["mia_scores", "reporting_auc_table", PARAMS],
                "rho_bootstrap",
                name="compute_rho_bootstrap",
            ),
            node(
                nodes.build_rho_table,
                ["rho_per_seed", "rho_bootstrap", "reporting_auc_table", PARAMS],
                "rho_table",
                name="build_rho_table",
            ),
            node(
                nodes.build_secondary_tables,
                ["reporting_auc_table", "rho_table"],
                "secondary_tables",
                name="build_secondary_tables",
            ),
            node(
                nodes.plot_auc_vs_nu,
                ["reporting_auc_table", "rho_table", PARAMS],
                ["auc_vs_nu_figure", "auc_vs_nu_embed"],
                name="plot_auc_vs_nu",
            ),
            node(
                nodes.plot_auc_vs_r,
                ["reporting_auc_table", PARAMS],
                ["auc_vs_r_figure", "auc_vs_r_embed"],
                name="plot_auc_vs_r",
            ),
            node(
                nodes.plot_rho_vs_r,
                ["rho_per_seed", "rho_table", PARAMS],
                ["rho_vs_r_figure", "rho_vs_r_embed"],
                name="plot_rho_vs_r",
            ),
            node(
                nodes.plot_rho_vs_levenshtein,
                ["rho_table", "perturbation_summary", PARAMS],
                ["rho_vs_levenshtein_figure", "rho_vs_levenshtein_embed"],
                name="plot_rho_vs_levenshtein",
            ),
            node(
                nodes.plot_roc,
                ["mia_scores", PARAMS],
                ["roc_figure", "roc_embed"],
                name="plot_roc",
            ),
            node(
                nodes.build_extraction_table,
                ["extraction_scores", PARAMS],
                "extraction_table",
                name="build_extraction_table",
            ),
            node(
                nodes.plot_extraction,
                "extraction_table",
                ["extraction_figure", "extraction_embed"],
                name="plot_extraction",
            ),
            node(
                nodes.plot_training_curves,
                ["training_metrics", "reporting_auc_table"],
                ["training_curves_figure", "training_curves_embed"],
                name="plot_training_curves",
            ),
            node(
                nodes.plot_slimpajama,
                "slimpajama_near_duplicates",
                ["slimpajama_near_dups_embed", "slimpajama_lev_vs_hamming_embed",
                 "slimpajama_dedup_survivors_embed"],
                name="plot_slimpajama_for_report",
            ),
            node(
                nodes.write_report,
                [
                    "reporting_auc_table",
                    "rho_table",
                    "secondary_tables",
                    "extraction_table",
                    "extraction_scores",
                    "training_metrics",
                    "slimpajama_planted_check",
                    "slimpajama_throughput",
                    "run_records",
                    "parameters",
                    PARAMS,
                    "rho_vs_r_embed",
                    "auc_vs_nu_embed",
                    "auc_vs_r_embed",
                    "rho_vs_levenshtein_embed",
                    "roc_embed",
                    "training_curves_embed",
                    "extraction_embed",
                    "slimpajama_near_dups_embed",
                    "slimpajama_lev_vs_hamming_embed",
                    "slimpajama_dedup_survivors_embed",
                ],
                ["report", "report_html", "report_figures"],
                name="write_report",
            ),
        ],
        namespace="reporting",
        prefix_datasets_with_namespace=False,
    )
