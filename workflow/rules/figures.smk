# Stage: figures. One rule per figure (never per case); each writes SVG, PNG and a JSON with the
# figure's caption and alt text (see caserepro.figures).
FIGURE_FILES = {figure: paths.figure_files(RESULTS, figure) for figure in paths.FIGURES}
FIGURES_OUTPUTS = [path for files in FIGURE_FILES.values() for path in files.values()]


rule plot_course:
    input:
        **VALIDATED,
    output:
        svg=report(
            FIGURE_FILES["course"]["svg"],
            caption="../report/course.rst",
            category="Figures",
        ),
        png=FIGURE_FILES["course"]["png"],
        text=FIGURE_FILES["course"]["json"],
    log:
        RESULTS / "logs" / "plot_course.log",
    conda:
        SOFTWARE
    params:
        thresholds=config["thresholds"],
        case_id=config["figures"]["case_id"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/plot_course.py"


rule plot_mri:
    input:
        **VALIDATED,
    output:
        svg=report(
            FIGURE_FILES["mri"]["svg"],
            caption="../report/mri.rst",
            category="Figures",
        ),
        png=FIGURE_FILES["mri"]["png"],
        text=FIGURE_FILES["mri"]["json"],
    log:
        RESULTS / "logs" / "plot_mri.log",
    conda:
        SOFTWARE
    params:
        thresholds=config["thresholds"],
        case_id=config["figures"]["case_id"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/plot_mri.py"


rule plot_audit:
    input:
        audit=paths.audit_file(RESULTS),
        dictionary=VALIDATED["dictionary"],
    output:
        svg=report(
            FIGURE_FILES["audit"]["svg"],
            caption="../report/audit.rst",
            category="Figures",
        ),
        png=FIGURE_FILES["audit"]["png"],
        text=FIGURE_FILES["audit"]["json"],
    log:
        RESULTS / "logs" / "plot_audit.log",
    conda:
        SOFTWARE
    params:
        max_rows=config["figures"]["audit_max_rows"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/plot_audit.py"


rule plot_timeline:
    input:
        **VALIDATED,
    output:
        svg=report(
            FIGURE_FILES["timeline"]["svg"],
            caption="../report/timeline.rst",
            category="Figures",
        ),
        png=FIGURE_FILES["timeline"]["png"],
        text=FIGURE_FILES["timeline"]["json"],
    log:
        RESULTS / "logs" / "plot_timeline.log",
    conda:
        SOFTWARE
    params:
        case_id=config["figures"]["case_id"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/plot_timeline.py"
