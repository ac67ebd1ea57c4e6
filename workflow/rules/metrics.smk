# Stage: metrics. Outputs that `rule all` asks for:
METRICS_OUTPUTS = []
