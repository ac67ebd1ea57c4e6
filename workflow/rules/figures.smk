# Stage: figures. Outputs that `rule all` asks for:
FIGURES_OUTPUTS = []
