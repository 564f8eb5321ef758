import { Chart, Decimation, Legend, LineController, LineElement, LinearScale, LogarithmicScale, PointElement, Tooltip } from 'chart.js';

/** Registers only the chart.js parts the workbench draws (keeps the bundle small). */
Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Decimation, Legend, Tooltip);
