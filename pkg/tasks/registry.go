package tasks

// Default returns every built-in task keyed by its task definition key.
// pool (a *dockerhost.Pool) gives the Docker tasks their engine clients; llm
// (LLMConfigFromEnv) enables log_triage's optional summary.
func Default(pool EngineClients, llm LLMConfig) Registry {
	return Registry{
		"noop":        Noop(),
		"log_triage":  LogTriage(pool, llm),
		"gpu_report":  GPUReport(pool),
		"service_map": ServiceMap(pool),
	}
}
