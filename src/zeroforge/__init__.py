"""zeroforge: AlphaZero-style self-play training of small policy-value agents on verifiable tasks.

```python
import zeroforge
task = zeroforge.make_task("tictactoe")
state = task.step(task.initial_state(seed=0), 4)
agent = zeroforge.load_agent("runs/default")
action = agent.select_action(state)

trm = zeroforge.create_trm_agent({"task": {"name": "tictactoe"}})   # an untrained Tiny Recursive Model agent
zeroforge.SelfPlayTrainer(agent=trm, run_dir="runs/trm").run()       # ... trained by self-play
```
"""

from zeroforge.agent import Agent, create_hrm_agent, create_trm_agent, load_agent
from zeroforge.arena.framework import EvaluationFramework
from zeroforge.arena.heldout import SolveReport, evaluate_held_out
from zeroforge.config import HRMConfig, MCTSConfig, TRMConfig, ZeroforgeConfig, load_config
from zeroforge.data.extractor import TrainingDataExtractor, TrainingExample
from zeroforge.orchestrator import AgentTrainingOrchestrator
from zeroforge.search.mcts import MCTS
from zeroforge.search.trace import MCTSTrace
from zeroforge.selfplay.episode import Action, SelfPlayEpisode
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.tasks.base import State, Task
from zeroforge.tasks.generators import (
    CodeGenerationTaskGenerator,
    Curriculum,
    MathProblemGenerator,
    MCTSSearchTaskGenerator,
    MultiStepReasoningGenerator,
)
from zeroforge.tasks.registry import available_tasks, make_task
from zeroforge.trainer import SelfPlayTrainer

__version__ = "0.1.0"

__all__ = [
    "MCTS",
    "Action",
    "Agent",
    "AgentTrainingOrchestrator",
    "CodeGenerationTaskGenerator",
    "Curriculum",
    "EvaluationFramework",
    "HRMConfig",
    "MCTSConfig",
    "MCTSSearchTaskGenerator",
    "MCTSTrace",
    "MathProblemGenerator",
    "MultiStepReasoningGenerator",
    "SelfPlayEpisode",
    "SelfPlayEpisodeGenerator",
    "SelfPlayTrainer",
    "SolveReport",
    "State",
    "TRMConfig",
    "Task",
    "TrainingDataExtractor",
    "TrainingExample",
    "ZeroforgeConfig",
    "available_tasks",
    "create_hrm_agent",
    "create_trm_agent",
    "evaluate_held_out",
    "load_agent",
    "load_config",
    "make_task",
]
