"""caserepro: rebuild a published case report from its raw numbers."""
