// 请在此文件中用原生 JavaScript 按题目要求实现选项卡切换（不得使用 jQuery 等库）

