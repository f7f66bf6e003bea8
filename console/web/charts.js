// ECharts for the KPI page (console/static/dashboard.js): only the parts it draws with, as
// a global. Canvas rendering; no network access, no theme files.
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import {
  GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent,
} from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, MarkLineComponent,
             TitleComponent, TooltipComponent, CanvasRenderer]);
window.echarts = echarts;
